package matrixtest

import (
	"crypto/subtle"
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

// Server is a fake homeserver with one account, the bot's. Make it with
// New; it stops when the test ends.
type Server struct {
	hs       *httptest.Server
	token    string
	userID   string
	deviceID string

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced when the stream grows or Drop is called
	stream     []entry       // position i+1 holds stream[i]
	rooms      map[string]*room
	txns       map[string]string // transaction id → event id
	sent       []Sent
	lost       map[string]bool // room and content of sends whose answer was lost
	loseNext   int             // sends to commit and then leave unanswered
	limit      RateLimit
	limited    time.Time   // sends before this are rate-limited
	limitedTxn string      // the send that was told so
	window     []time.Time // recent accepted sends, for limit
	violation  []string
	failSyncs  int // syncs to answer 502
	replays    int // sends answered from an earlier send with their txn id
	syncs      int // sync requests answered or in flight
	inSync     int // sync requests in flight
	batch      int // most entries in one sync answer
	tlimit     int // most timeline events per room in one sync answer; 0: no limit
	seq        int // for event ids
}

// entry is one event in the stream.
type entry struct {
	room   string
	invite bool           // an invite for the bot, shown in rooms.invite
	ev     map[string]any // the client event, without room_id
}

type room struct {
	joined, invited, refused bool
}

// Sent is one event the client sent.
type Sent struct {
	Room    string
	Type    string
	TxnID   string
	EventID string
	Content map[string]any
}

// Body returns the content's body, the text of a message.
func (s Sent) Body() string { b, _ := s.Content["body"].(string); return b }

// RateLimit makes the server refuse sends over Burst within Per with
// M_LIMIT_EXCEEDED and a retry_after_ms of RetryAfter.
type RateLimit struct {
	Burst      int
	Per        time.Duration
	RetryAfter time.Duration
}

// New starts a server with one account, @bot:example.org, until t ends.
func New(t testing.TB) *Server {
	s := NewServer()
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a server with one account, @bot:example.org, for an
// Example or a program; Close stops it.
func NewServer() *Server {
	s := &Server{
		token:    "syt_bot_" + strconv.FormatInt(time.Now().UnixNano(), 36),
		userID:   "@bot:example.org",
		deviceID: "SWITCHBOARD",
		changed:  make(chan struct{}),
		rooms:    map[string]*room{},
		txns:     map[string]string{},
		lost:     map[string]bool{},
		batch:    100,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/client/v3/account/whoami", s.auth(s.whoami))
	mux.HandleFunc("GET /_matrix/client/v3/sync", s.auth(s.sync))
	mux.HandleFunc("PUT /_matrix/client/v3/rooms/{room}/send/{type}/{txn}", s.auth(s.send))
	mux.HandleFunc("GET /_matrix/client/v3/rooms/{room}/messages", s.auth(s.messages))
	mux.HandleFunc("POST /_matrix/client/v3/join/{room}", s.auth(s.join))
	mux.HandleFunc("POST /_matrix/client/v3/rooms/{room}/join", s.auth(s.join))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "M_UNRECOGNIZED", "Unrecognized request")
	})
	s.hs = httptest.NewServer(mux)
	return s
}

// Close stops the server, failing requests in flight.
func (s *Server) Close() {
	s.hs.CloseClientConnections()
	s.hs.Close()
}

// URL is the homeserver's base URL.
func (s *Server) URL() string { return s.hs.URL }

// Token is the bot's access token.
func (s *Server) Token() string { return s.token }

// UserID is the bot's user id.
func (s *Server) UserID() string { return s.userID }

// SetBatch sets the most stream entries one sync answers (default 100),
// so that a test can make a backlog span several syncs.
func (s *Server) SetBatch(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batch = max(1, n)
}

// SetTimelineLimit makes a sync answer at most n timeline events per
// room, the latest, with limited: true and a prev_batch from which
// /rooms/{roomId}/messages pages back through the rest, as servers do
// after a long absence. 0 (the default) lifts the limit.
func (s *Server) SetTimelineLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tlimit = n
}

// Joined makes the bot a member of room, as if it had joined before.
func (s *Server) Joined(roomID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roomLocked(roomID).joined = true
}

// IsJoined reports whether the bot is a member of room.
func (s *Server) IsJoined(roomID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[roomID]
	return ok && r.joined
}

// Invite invites the bot to room on behalf of inviter. With encrypted,
// the room's invite_state says it is end-to-end encrypted.
func (s *Server) Invite(roomID, inviter string, encrypted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roomLocked(roomID).invited = true
	state := []map[string]any{s.stateEventLocked("m.room.member", inviter, s.userID, map[string]any{"membership": "invite"})}
	if encrypted {
		state = append(state, s.stateEventLocked("m.room.encryption", inviter, "", map[string]any{"algorithm": "m.megolm.v1.aes-sha2"}))
	}
	s.appendLocked(entry{room: roomID, invite: true, ev: map[string]any{"events": state}})
}

// Say posts a text message from sender in room and returns its event id.
func (s *Server) Say(roomID, sender, text string) string {
	return s.Post(roomID, sender, "m.room.message", map[string]any{"msgtype": "m.text", "body": text})
}

// SayInThread posts a text message from sender in the thread of room
// rooted at root.
func (s *Server) SayInThread(roomID, sender, root, text string) string {
	return s.Post(roomID, sender, "m.room.message", map[string]any{"msgtype": "m.text", "body": text,
		"m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": root}})
}

// Post posts an event of type typ with content from sender in room and
// returns its event id.
func (s *Server) Post(roomID, sender, typ string, content any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roomLocked(roomID)
	ev := s.eventLocked(typ, sender, content)
	s.appendLocked(entry{room: roomID, ev: ev})
	return ev["event_id"].(string)
}

// Encrypt turns end-to-end encryption on in room: an m.room.encryption
// state event from sender in its timeline.
func (s *Server) Encrypt(roomID, sender string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roomLocked(roomID)
	s.appendLocked(entry{room: roomID, ev: s.stateEventLocked("m.room.encryption", sender, "", map[string]any{"algorithm": "m.megolm.v1.aes-sha2"})})
}

// Refuse makes every send to room fail with 403 M_FORBIDDEN, as for a
// bot that was muted or banned.
func (s *Server) Refuse(roomID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roomLocked(roomID).refused = true
}

// LoseAnswers makes the next n sends (first tries or retries) commit
// their event and then close the connection unanswered, as a proxy that fails after the homeserver
// did its work: a client that retries must reuse the transaction id.
func (s *Server) LoseAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseNext = n
}

// FailSyncs makes the next n syncs fail with 502 M_UNKNOWN, as a
// homeserver behind a restarting proxy does.
func (s *Server) FailSyncs(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failSyncs = n
}

// SetRateLimit limits sends from now on (a zero RateLimit: no limit).
func (s *Server) SetRateLimit(l RateLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = l
}

// Sent returns the events the client sent, in order.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// AwaitSent waits until the client has sent n events and returns them.
func (s *Server) AwaitSent(n int, timeout time.Duration) ([]Sent, error) {
	err := s.await(timeout, func() bool { return len(s.sent) >= n })
	if err != nil {
		return s.Sent(), fmt.Errorf("matrixtest: %d events sent within %v, want %d", len(s.Sent()), timeout, n)
	}
	return s.Sent(), nil
}

// AwaitSync waits until a sync request is waiting for events (a long poll
// in flight).
func (s *Server) AwaitSync(timeout time.Duration) error {
	if err := s.await(timeout, func() bool { return s.inSync > 0 }); err != nil {
		return fmt.Errorf("matrixtest: no sync in flight within %v", timeout)
	}
	return nil
}

// AwaitJoined waits until the bot is a member of room.
func (s *Server) AwaitJoined(roomID string, timeout time.Duration) error {
	if err := s.await(timeout, func() bool { r, ok := s.rooms[roomID]; return ok && r.joined }); err != nil {
		return fmt.Errorf("matrixtest: bot not in %s within %v", roomID, timeout)
	}
	return nil
}

// Replays returns how many sends repeated the transaction id of an
// earlier one, and so were answered with its event rather than a new one.
func (s *Server) Replays() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replays
}

// Syncs returns how many sync requests the server took.
func (s *Server) Syncs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncs
}

// Violations returns what the client did that a well-behaved client does
// not (see the package documentation).
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violation...)
}

// Position returns the stream position of a sync token ("s42": 42), and
// whether it is one of this server's.
func Position(token string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(token, "s"))
	return n, err == nil && strings.HasPrefix(token, "s") && n >= 0
}

// EventPosition returns the stream position of the event with id, or 0.
func (s *Server) EventPosition(eventID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.stream {
		if e.ev["event_id"] == eventID {
			return i + 1
		}
	}
	return 0
}

// Drop breaks every connection to the server, syncs in flight included,
// as a restarting homeserver or a network failure does.
func (s *Server) Drop() {
	s.mu.Lock()
	s.signalLocked()
	s.mu.Unlock()
	s.hs.CloseClientConnections()
}

// await polls cond under the lock until it holds or timeout passes.
func (s *Server) await(timeout time.Duration, cond func() bool) error {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		ok, changed := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-time.After(2 * time.Millisecond):
		case <-deadline:
			return errTimeout
		}
	}
}

var errTimeout = fmt.Errorf("timeout")

func (s *Server) roomLocked(id string) *room {
	r, ok := s.rooms[id]
	if !ok {
		r = &room{}
		s.rooms[id] = r
	}
	return r
}

func (s *Server) eventLocked(typ, sender string, content any) map[string]any {
	s.seq++
	return map[string]any{
		"type":             typ,
		"event_id":         fmt.Sprintf("$ev%d:example.org", s.seq),
		"sender":           sender,
		"origin_server_ts": time.Now().UnixMilli(),
		"content":          content,
	}
}

func (s *Server) stateEventLocked(typ, sender, key string, content any) map[string]any {
	ev := s.eventLocked(typ, sender, content)
	ev["state_key"] = key
	return ev
}

func (s *Server) appendLocked(e entry) {
	s.stream = append(s.stream, e)
	s.signalLocked()
}

func (s *Server) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// auth checks the access token, from the Authorization header or the
// access_token query parameter, in constant time.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			tok = r.URL.Query().Get("access_token")
		}
		switch {
		case tok == "":
			writeError(w, http.StatusUnauthorized, "M_MISSING_TOKEN", "Missing access token")
		case subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1:
			writeError(w, http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Unrecognised access token")
		default:
			h(w, r)
		}
	}
}

func (s *Server) whoami(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"user_id": s.userID, "device_id": s.deviceID, "is_guest": false})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"errcode": code, "error": msg})
}
