package telegramtest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// DefaultToken is the token the fake accepts unless WithToken says
// otherwise. Its shape is a real token's: bot id, colon, secret.
const DefaultToken = "123456789:AAFakeTokenForTestsOnly_0123456789ab"

// DefaultTimeout bounds WaitCalls and the other waits of the package.
const DefaultTimeout = 10 * time.Second

// Call is one recorded Bot API call.
type Call struct {
	Method string
	// Params holds the form fields (or the JSON body's fields, as strings).
	Params url.Values
	// Files holds the uploaded files of a multipart call, by field name.
	Files map[string]File
	// Time is when the call arrived, by the server's clock.
	Time time.Time
	// Status is the HTTP status the fake answered.
	Status int
	// MessageID is the message a successful send made, or an edit
	// changed.
	MessageID int
}

// ChatID returns the call's chat_id parameter as a number (0 if absent).
func (c Call) ChatID() int64 {
	id, _ := strconv.ParseInt(c.Params.Get("chat_id"), 10, 64)
	return id
}

// File is an uploaded file.
type File struct {
	Name string
	Data []byte
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the token the server accepts.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithBot sets the bot's identity answered by getMe.
func WithBot(u tgbotapi.User) Option { return func(s *Server) { s.bot = u } }

// WithClock sets the clock that stamps recorded calls. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithWebhookRetry sets how long the fake waits before pushing an update
// again to a webhook that did not answer 2xx. Default: 20 ms.
func WithWebhookRetry(d time.Duration) Option { return func(s *Server) { s.hookRetry = d } }

// WithoutRecording keeps no record of sendMessage calls, only their count:
// for benchmarks that send millions.
func WithoutRecording() Option { return func(s *Server) { s.norecord = true } }

// Server is a fake Bot API server listening on 127.0.0.1.
type Server struct {
	token     string
	bot       tgbotapi.User
	now       func() time.Time
	hookRetry time.Duration
	norecord  bool
	flood     *floodControl // nil: no limits
	srv       *httptest.Server

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on a recorded change, when someone waits on it
	waiting  bool          // someone took changed: the next change must close it
	sentWait []sentWaiter  // AwaitSent calls, woken by their own count
	calls    []Call
	sent     int            // sendMessage calls answered 200, recorded or not
	okCalls  map[string]int // calls answered 200, by method
	script   map[string][]Reply
	blocked  map[int64]bool
	unknown  map[int64]bool
	attempts []Attempt
	nextMsg  int
	q        queue
	poll     *poller // the getUpdates call waiting, if any
	conflict int     // 409s answered to getUpdates
	hook     *webhook
	closed   bool
	hookDone sync.WaitGroup
}

// NewServer starts a fake server. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		token:     DefaultToken,
		bot:       tgbotapi.User{ID: 123456789, IsBot: true, FirstName: "Switchboard", UserName: "switchboard_test_bot"},
		now:       time.Now,
		hookRetry: 20 * time.Millisecond,
		changed:   make(chan struct{}),
		script:    map[string][]Reply{},
		okCalls:   map[string]int{},
		blocked:   map[int64]bool{},
		unknown:   map[int64]bool{},
		nextMsg:   1,
		q:         queue{next: 1},
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// New starts a fake server that is closed when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, its webhook pusher and any waiting long poll.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.stopHookLocked()
	s.notifyLocked()
	s.mu.Unlock()
	s.hookDone.Wait()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Drop breaks every open connection to the server without an answer, as
// a network failure or a restart of Telegram's front end does: a long
// poll in flight fails, and the updates it would have returned stay
// pending for the next one. The server goes on accepting connections.
func (s *Server) Drop() { s.srv.CloseClientConnections() }

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Endpoint is the endpoint format string the telegram-bot-api library
// takes: "<base>/bot%s/%s".
func (s *Server) Endpoint() string { return s.srv.URL + "/bot%s/%s" }

// Token is the token the server accepts.
func (s *Server) Token() string { return s.token }

// Bot is the identity getMe answers.
func (s *Server) Bot() tgbotapi.User { return s.bot }

// Client returns the server's HTTP client.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// notifyLocked wakes everything waiting for a change. Nobody waits most
// of the time, and then a change costs nothing: the fake must not be the
// bottleneck of a benchmark that sends hundreds of thousands of calls.
func (s *Server) notifyLocked() {
	if !s.waiting {
		return
	}
	close(s.changed)
	s.changed = make(chan struct{})
	s.waiting = false
}

// changedLocked returns a channel closed at the next change.
func (s *Server) changedLocked() <-chan struct{} {
	s.waiting = true
	return s.changed
}

// waitLocked waits (with s.mu released) until something changed or the
// deadline passed; it reports false at the deadline.
func (s *Server) waitLocked(deadline <-chan time.Time) bool {
	ch := s.changedLocked()
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case <-ch:
		return true
	case <-deadline:
		return false
	}
}

// reply is an answer in the Bot API's envelope: body encoded as JSON, or
// raw when it is already encoded.
type reply struct {
	status int
	body   any
	raw    []byte
}

// okBody is the envelope of a successful answer, its fields in the
// Bot API's order.
type okBody struct {
	OK     bool `json:"ok"`
	Result any  `json:"result"`
}

func ok(result any) reply {
	return reply{status: http.StatusOK, body: okBody{OK: true, Result: result}}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, found := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, _ := strings.Cut(rest, "/")
	if !found || token != s.token {
		writeReply(w, Unauthorized().reply())
		return
	}
	params, files, err := parseParams(r)
	if err != nil {
		writeReply(w, Reply{Code: 400, Description: "Bad Request: " + err.Error()}.reply())
		return
	}
	c := Call{Method: method, Params: params, Files: files}
	var rep reply
	if method == "getUpdates" {
		rep = s.getUpdates(r, &c)
	} else {
		s.mu.Lock()
		c.Time = s.now()
		rep = s.call(&c)
		c.Status = rep.status
		if !(s.norecord && method == "sendMessage") {
			s.calls = append(s.calls, c)
		}
		if rep.status == http.StatusOK {
			s.okCalls[method]++
			if method == "sendMessage" {
				s.sent++
				s.wakeSentLocked()
			}
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
	writeReply(w, rep)
}

func writeReply(w http.ResponseWriter, rep reply) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	if rep.raw != nil {
		_, _ = w.Write(rep.raw)
		return
	}
	_ = json.NewEncoder(w).Encode(rep.body)
}

// parseParams reads a call's parameters from the query, a form, a
// multipart form or a JSON object, as the Bot API accepts them all.
func parseParams(r *http.Request) (url.Values, map[string]File, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(64 << 20); err != nil {
			return nil, nil, err
		}
		files := map[string]File{}
		for name, fhs := range r.MultipartForm.File {
			f, err := fhs[0].Open()
			if err != nil {
				return nil, nil, err
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, nil, err
			}
			files[name] = File{Name: fhs[0].Filename, Data: data}
		}
		return r.Form, files, nil
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, nil, err
		}
		v := r.URL.Query()
		for k, x := range m {
			if str, isStr := x.(string); isStr {
				v.Set(k, str)
			} else {
				b, _ := json.Marshal(x)
				v.Set(k, string(b))
			}
		}
		return v, nil, nil
	default:
		if err := r.ParseForm(); err != nil {
			return nil, nil, err
		}
		return r.Form, nil, nil
	}
}

// Calls returns the recorded calls of method, or of every method when
// method is "". getUpdates calls are recorded too.
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

// WaitCalls waits until at least n calls of method were answered 200 and
// returns all recorded calls of method. It fails the test after
// DefaultTimeout.
func (s *Server) WaitCalls(t testing.TB, method string, n int) []Call {
	t.Helper()
	calls, err := s.AwaitCalls(method, n, DefaultTimeout)
	if err != nil {
		t.Fatal(err)
	}
	return calls
}

// AwaitCalls is WaitCalls for code without a testing.TB: it returns an
// error at the timeout.
func (s *Server) AwaitCalls(method string, n int, timeout time.Duration) ([]Call, error) {
	deadline := time.After(timeout)
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		good := s.okCalls[method]
		if method == "" {
			good = 0
			for _, n := range s.okCalls {
				good += n
			}
		}
		if good >= n {
			return s.callsLocked(method), nil
		}
		if !s.waitLocked(deadline) {
			return s.callsLocked(method), fmt.Errorf("telegramtest: %d successful %s calls after %v, want %d", good, method, timeout, n)
		}
	}
}

// SentCount returns how many sendMessage calls were answered 200, recorded
// or not.
func (s *Server) SentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// AwaitSent waits until n sendMessage calls were answered 200.
func (s *Server) AwaitSent(n int, timeout time.Duration) error {
	s.mu.Lock()
	if s.sent >= n {
		s.mu.Unlock()
		return nil
	}
	// A waiter of its own, woken once at its count, rather than at every
	// change: a benchmark waits here for hundreds of thousands of sends.
	w := sentWaiter{n: n, ch: make(chan struct{})}
	s.sentWait = append(s.sentWait, w)
	s.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-w.ch:
		return nil
	case <-t.C:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sentWait = slices.DeleteFunc(s.sentWait, func(x sentWaiter) bool { return x.ch == w.ch })
	if s.sent >= n {
		return nil
	}
	return fmt.Errorf("telegramtest: %d messages sent after %v, want %d", s.sent, timeout, n)
}

type sentWaiter struct {
	n  int
	ch chan struct{}
}

func (s *Server) wakeSentLocked() {
	s.sentWait = slices.DeleteFunc(s.sentWait, func(w sentWaiter) bool {
		if s.sent >= w.n {
			close(w.ch)
			return true
		}
		return false
	})
}

// Texts returns the text of every successful sendMessage to chat, in the
// order they arrived.
func (s *Server) Texts(chat int64) []string {
	var out []string
	for _, c := range s.Calls("sendMessage") {
		if c.Status == http.StatusOK && c.ChatID() == chat {
			out = append(out, c.Params.Get("text"))
		}
	}
	return out
}

// Conflicts returns how many getUpdates calls were answered 409.
func (s *Server) Conflicts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conflict
}
