package fakeslack

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timeout bounds every wait of the package.
const Timeout = 5 * time.Second

// Identities and secrets the fake uses unless Options change them.
const (
	BotToken      = "xoxb-fake-bot-token"
	AppToken      = "xapp-fake-app-token"
	SigningSecret = "fake-signing-secret"
	TeamID        = "T0FAKE"
	BotUserID     = "U0BOT"
	BotID         = "B0BOT"
	AppID         = "A0APP"
)

// Options adjusts a Server. The zero value takes the constants above and
// pings every 100 ms.
type Options struct {
	BotToken, AppToken, SigningSecret string
	// PingInterval is how often the Socket Mode connection is pinged.
	PingInterval time.Duration
	// PostLimit, when set, answers chat.postMessage calls over it 429
	// ratelimited, with Retry-After: 1, and counts them (RateLimited).
	// Default: no limit.
	PostLimit *PostLimit
	// Spread sends each envelope on the next open Socket Mode connection
	// in turn, as Slack spreads an app's envelopes over its connections
	// (one per process, say). An envelope left unacknowledged by a
	// connection that ends goes to the next open one, as a retry; a new
	// connection gets only envelopes no open connection holds. Default:
	// every envelope goes to the newest connection, and a new connection
	// gets every envelope not acknowledged yet.
	Spread bool
}

// Server is a fake Slack. Make it with New; it closes when the test ends.
type Server struct {
	opts Options
	srv  *httptest.Server
	// client posts signed requests; its idle connections close with the
	// server, so that no goroutine outlives a test.
	client *http.Client
	// APIURL is the Web API base URL, ending in "/" as slack.OptionAPIURL
	// needs.
	APIURL string

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever anything is recorded
	calls    []Call
	failures map[string][]Failure
	chanErr  map[string]string
	ts       int64
	posts    postBuckets

	sock socketState
}

// Call is one recorded Web API call or response_url post.
type Call struct {
	Method string // "chat.postMessage", ..., or "response_url"
	Token  string // the token the call carried
	// Params holds the form fields or, for JSON bodies, the top-level
	// fields as strings (nested values as JSON).
	Params map[string]string
	// Err is the error the fake answered with ("channel_not_found",
	// "http_429"), or "" on success.
	Err string
	// Time is when the call arrived.
	Time time.Time
}

// Channel, Text and Thread return the common parameters.
func (c Call) Channel() string { return c.Params["channel"] }
func (c Call) Text() string    { return c.Params["text"] }
func (c Call) Thread() string  { return c.Params["thread_ts"] }

// Failure scripts one failed call.
type Failure struct {
	// Status is the HTTP status to answer with (429, 500); 0 answers 200
	// with ok:false and Code.
	Status int
	// RetryAfter is sent as the Retry-After header, in seconds, when set.
	RetryAfter int
	// Code is Slack's error code for ok:false answers.
	Code string
}

// New starts a fake Slack on 127.0.0.1 that closes when the test ends.
func New(tb testing.TB, o Options) *Server {
	s := NewServer(o)
	tb.Cleanup(s.Close)
	return s
}

// NewServer starts a fake Slack on 127.0.0.1 outside a test (a
// playground). Close it when done.
func NewServer(o Options) *Server {
	if o.BotToken == "" {
		o.BotToken = BotToken
	}
	if o.AppToken == "" {
		o.AppToken = AppToken
	}
	if o.SigningSecret == "" {
		o.SigningSecret = SigningSecret
	}
	if o.PingInterval == 0 {
		o.PingInterval = 100 * time.Millisecond
	}
	s := &Server{opts: o, changed: make(chan struct{}), failures: map[string][]Failure{}, chanErr: map[string]string{}}
	if o.PostLimit != nil {
		s.posts.limit = *o.PostLimit
	}
	s.sock.init()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPI)
	mux.HandleFunc("/respond/{id}", s.serveRespond)
	mux.HandleFunc("/socket", s.serveSocket)
	s.srv = httptest.NewServer(mux)
	s.APIURL = s.srv.URL + "/api/"
	s.client = &http.Client{Timeout: Timeout, Transport: &http.Transport{}}
	return s
}

// Close stops the server, closing Socket Mode connections first.
func (s *Server) Close() {
	s.closeAll()
	s.srv.Close()
	s.client.CloseIdleConnections()
}

// Options returns the tokens and secret in use.
func (s *Server) Options() Options { return s.opts }

// ResponseURL returns a response_url the fake serves, for commands and
// interactions.
func (s *Server) ResponseURL(id string) string { return s.srv.URL + "/respond/" + id }

// Fail queues failures for the next calls of method, one per call.
func (s *Server) Fail(method string, f ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], f...)
}

// FailChannel makes every chat and reactions call to channel fail with
// code, such as "channel_not_found" or "not_in_channel"; an empty code
// clears it.
func (s *Server) FailChannel(channel, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		delete(s.chanErr, channel)
	} else {
		s.chanErr[channel] = code
	}
}

// Calls returns the calls recorded so far, of method only unless method is
// "".
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsLocked(method)
}

func (s *Server) callsLocked(method string) []Call {
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// WaitCalls waits until n calls of method succeeded and returns them,
// failing tb after Timeout.
func (s *Server) WaitCalls(tb testing.TB, method string, n int) []Call {
	tb.Helper()
	var got []Call
	ok := s.waitFor(func() bool {
		got = got[:0]
		for _, c := range s.callsLocked(method) {
			if c.Err == "" {
				got = append(got, c)
			}
		}
		return len(got) >= n
	})
	if !ok {
		tb.Fatalf("fakeslack: %d successful %s calls within %v, want %d", len(got), method, Timeout, n)
	}
	return got
}

// waitFor waits until cond, called with s.mu held, holds.
func (s *Server) waitFor(cond func() bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	return s.waitForCtx(ctx, cond)
}

func (s *Server) waitForCtx(ctx context.Context, cond func() bool) bool {
	for {
		s.mu.Lock()
		done, ch := cond(), s.changed
		s.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// notifyLocked wakes the waiters.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) nextTSLocked() string {
	s.ts++
	return fmt.Sprintf("1700000000.%06d", s.ts)
}

func bearer(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}
