package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultToken is the bot token the fake accepts unless WithToken says
// otherwise. Its shape is a real token's: three dot-separated parts.
const DefaultToken = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GfAkEt.discordtest-fake-token-000000000000"

// BotID is the fake bot's user id.
const BotID = "100000000000000001"

// Timeout bounds the waits of the package.
const Timeout = 10 * time.Second

// Limits are the fake's rate limits.
type Limits struct {
	// Route is how many messages one channel takes per Window. Default 5.
	Route int
	// Window is the length of a channel's bucket. Default 1 s.
	Window time.Duration
	// Global is how many requests the bot makes per second, on every
	// route together. Default 50, Discord's.
	Global int
}

// Posted is a message the bot posted.
type Posted struct {
	ID        string
	ChannelID string
	Content   string
	// ReplyTo is the message_reference's message_id, if any.
	ReplyTo string
	Nonce   string
	Time    time.Time
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the token the fake accepts.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithLimits sets the rate limits; zero fields keep their defaults.
func WithLimits(l Limits) Option {
	return func(s *Server) {
		if l.Route > 0 {
			s.limits.Route = l.Route
		}
		if l.Window > 0 {
			s.limits.Window = l.Window
		}
		if l.Global > 0 {
			s.limits.Global = l.Global
		}
	}
}

// WithHeartbeat sets the heartbeat_interval of HELLO. Default 41.25 s,
// Discord's; a connection with no heartbeat for 1.5 intervals is closed
// with 4009 (session timed out) and stays resumable.
func WithHeartbeat(d time.Duration) Option { return func(s *Server) { s.heartbeat = d } }

// WithShards sets the shard count /gateway/bot recommends. Default 1.
func WithShards(n int) Option { return func(s *Server) { s.shards = n } }

// Server is a fake Discord listening on 127.0.0.1.
type Server struct {
	token     string
	heartbeat time.Duration
	shards    int
	limits    Limits
	srv       *httptest.Server

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every recorded change
	posted    []Posted
	nonces    map[string]Posted // channel + nonce
	refused   map[string]int    // channel -> Discord error code
	nextID    int64
	rl        rateState
	gw        gatewayState
	outage    chan struct{} // non-nil while new connections are held
	down      bool          // the Gateway answers 503
	lose      int           // posts to answer 502 after making them
	closed    bool
	connsDone sync.WaitGroup
}

// New starts a fake Discord, closed when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		token:     DefaultToken,
		heartbeat: 41250 * time.Millisecond,
		shards:    1,
		limits:    Limits{Route: 5, Window: time.Second, Global: 50},
		changed:   make(chan struct{}),
		nonces:    map[string]Posted{},
		refused:   map[string]int{},
		nextID:    1 << 32,
	}
	for _, o := range opts {
		o(s)
	}
	s.rl.init()
	s.gw.init()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v10/gateway/bot", s.auth(s.gatewayBot))
	mux.HandleFunc("GET /api/v10/users/@me", s.auth(s.me))
	mux.HandleFunc("POST /api/v10/channels/{channel}/messages", s.auth(s.createMessage))
	mux.HandleFunc("GET /gateway", s.serveGateway)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 0, "404: Not Found")
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// URL returns the fake's base URL, "http://127.0.0.1:port".
func (s *Server) URL() string { return s.srv.URL }

// APIURL returns the base of the REST API, ending in "/api/v10/".
func (s *Server) APIURL() string { return s.srv.URL + "/api/v10/" }

// Token returns the token the fake accepts.
func (s *Server) Token() string { return s.token }

// Close drops every connection and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	if s.outage != nil {
		close(s.outage)
		s.outage = nil
	}
	conns := s.gw.dropAllLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.connsDone.Wait()
}

// Refuse makes every message posted to channel fail with Discord's error
// for code (50013 Missing Permissions, 50001 Missing Access, 10003 Unknown
// Channel, 50007 Cannot send messages to this user); code 0 lifts it.
func (s *Server) Refuse(channel string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.refused, channel)
		return
	}
	s.refused[channel] = code
}

// LoseAnswers makes the next n posts that make a message answered 502
// Bad Gateway, as when the answer is lost on its way back: a client that
// posts again without the same nonce posts twice.
func (s *Server) LoseAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose = n
}

// Posted returns the messages the bot posted, in order.
func (s *Server) Posted() []Posted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Posted(nil), s.posted...)
}

// AwaitPosted waits until the bot posted n messages and returns them,
// failing t after Timeout.
func (s *Server) AwaitPosted(t testing.TB, n int) []Posted {
	t.Helper()
	var out []Posted
	s.await(t, fmt.Sprintf("%d posted messages", n), func() bool {
		if len(s.posted) < n {
			return false
		}
		out = append([]Posted(nil), s.posted...)
		return true
	})
	return out
}

// await waits until cond, called with s.mu held, holds.
func (s *Server) await(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(Timeout)
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("discordtest: not within %v: %s", Timeout, what)
		}
	}
}

// notifyLocked wakes the waiters.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// snowflakeLocked returns a new id.
func (s *Server) snowflakeLocked() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// auth checks the Authorization header before anything else.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bot "+s.token {
			writeError(w, http.StatusUnauthorized, 0, "401: Unauthorized")
			return
		}
		h(w, r)
	}
}

func (s *Server) gatewayBot(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, "GET /gateway/bot", "") {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"url":    "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/gateway",
		"shards": s.shards,
		"session_start_limit": map[string]int{
			"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1,
		},
	})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	if !s.limit(w, "GET /users/@me", "") {
		return
	}
	writeJSON(w, http.StatusOK, botUser())
}

func botUser() map[string]any {
	return map[string]any{"id": BotID, "username": "switchboard", "discriminator": "0",
		"global_name": "Switchboard", "bot": true}
}

// messageCreate is the JSON body of POST /channels/{id}/messages.
type messageCreate struct {
	Content   string `json:"content"`
	Nonce     any    `json:"nonce"`
	Enforce   bool   `json:"enforce_nonce"`
	Reference *struct {
		MessageID string `json:"message_id"`
	} `json:"message_reference"`
}

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	channel := r.PathValue("channel")
	if !s.limit(w, "POST /channels/{channel.id}/messages", channel) {
		return
	}
	var body messageCreate
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	if n := len([]rune(body.Content)); n == 0 || n > 2000 {
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	nonce := ""
	if body.Nonce != nil {
		nonce = fmt.Sprint(body.Nonce)
	}
	s.mu.Lock()
	if code := s.refused[channel]; code != 0 {
		s.mu.Unlock()
		status, msg := refusal(code)
		writeError(w, status, code, msg)
		return
	}
	if p, ok := s.nonces[channel+"\x00"+nonce]; ok && nonce != "" && body.Enforce {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, messageJSON(p))
		return
	}
	p := Posted{ID: s.snowflakeLocked(), ChannelID: channel, Content: body.Content, Nonce: nonce, Time: time.Now()}
	if body.Reference != nil {
		p.ReplyTo = body.Reference.MessageID
	}
	s.posted = append(s.posted, p)
	if nonce != "" {
		s.nonces[channel+"\x00"+nonce] = p
	}
	s.notifyLocked()
	lost := s.lose > 0
	if lost {
		s.lose--
	}
	s.mu.Unlock()
	if lost {
		writeError(w, http.StatusBadGateway, 0, "502: Bad Gateway")
		return
	}
	writeJSON(w, http.StatusOK, messageJSON(p))
}

func messageJSON(p Posted) map[string]any {
	m := map[string]any{"id": p.ID, "channel_id": p.ChannelID, "content": p.Content, "type": 0,
		"author": botUser(), "timestamp": p.Time.UTC().Format(time.RFC3339Nano), "tts": false,
		"mention_everyone": false, "mentions": []any{}, "attachments": []any{}, "embeds": []any{}, "pinned": false}
	if p.Nonce != "" {
		m["nonce"] = p.Nonce
	}
	if p.ReplyTo != "" {
		m["type"] = 19
		m["message_reference"] = map[string]any{"message_id": p.ReplyTo, "channel_id": p.ChannelID}
	}
	return m
}

// refusal returns the HTTP status and Discord's message for an error code.
func refusal(code int) (int, string) {
	switch code {
	case 50013:
		return http.StatusForbidden, "Missing Permissions"
	case 50001:
		return http.StatusForbidden, "Missing Access"
	case 50007:
		return http.StatusForbidden, "Cannot send messages to this user"
	case 10003:
		return http.StatusNotFound, "Unknown Channel"
	}
	return http.StatusBadRequest, "Refused"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg})
}
