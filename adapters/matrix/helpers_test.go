package matrix_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/matrix"
	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/scope"
)

const (
	user    = "@ada:example.org"
	timeout = 5 * time.Second
)

func roomOf(conv string) string { return "!" + conv + ":example.org" }

// testConfig is a config for srv with short waits.
func testConfig(srv *matrixtest.Server) matrix.Config {
	return matrix.Config{
		Homeserver:  srv.URL(),
		AccessToken: matrix.Secret(srv.Token()),
		Sync:        matrix.Sync{Timeout: time.Second},
		Retry:       matrix.Retry{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
	}
}

// newAdapter returns an adapter on srv that logs to logs (if not nil).
func newAdapter(t testing.TB, cfg matrix.Config, logs *logtest.Buffer, opts ...matrix.Option) *matrix.Adapter {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if logs != nil {
		log = logs.Logger()
	}
	a, err := matrix.New("matrix", cfg, append([]matrix.Option{matrix.WithLogger(log)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// running is a Host running an application until stopped.
type running struct {
	host   *adapters.Host
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned err
	err    error
}

// run runs a on a Host serving app, waits until it is ready, and stops it
// (gracefully) when the test ends if it was not stopped before.
func run(t testing.TB, a adapters.Adapter, app scope.Application, opts ...adapters.HostOption) *running {
	t.Helper()
	h := adapters.NewHost(a, append([]adapters.HostOption{adapters.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{host: h, cancel: cancel, done: make(chan struct{})}
	go func() { r.err = h.Run(ctx, app); close(r.done) }()
	t.Cleanup(func() { r.shutdown(t) })
	select {
	case <-h.Ready():
	case <-r.done:
		t.Fatalf("Run returned before ready: %v", r.err)
	case <-time.After(timeout):
		t.Fatal("adapter not ready")
	}
	return r
}

// shutdown stops r gracefully and waits for Run.
func (r *running) shutdown(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = r.host.Shutdown(ctx)
	r.cancel()
	r.wait(t)
}

// kill stops r hard: Run's context cancelled, no Shutdown.
func (r *running) kill(t testing.TB) {
	r.cancel()
	r.wait(t)
}

func (r *running) wait(t testing.TB) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		t.Fatal("Run did not return")
	}
}

// recorder is an application that answers each message with
// "echo: <text>" and records the messages it answered. A message whose text starts with
// "block" waits, before it is handled, until release is closed or its
// handler's context ends (then it is not handled).
type recorder struct {
	*consumer.Type[*recorderInstance]
	mu      sync.Mutex
	handled map[string]int  // event id → times handled
	got     map[string]bool // event ids whose handler began
	texts   []string        // in the order handled
	seen    chan matrix.Message
	release chan struct{}
}

type recorderInstance struct {
	consumer.Chat
	r *recorder
}

func newRecorder() *recorder {
	r := &recorder{handled: map[string]int{}, got: map[string]bool{}, seen: make(chan matrix.Message, 1000), release: make(chan struct{})}
	r.Type = consumer.New(func() *recorderInstance { return &recorderInstance{r: r} },
		consumer.OnMessage((*recorderInstance).message))
	return r
}

func (i *recorderInstance) message(ctx context.Context, m consumer.ChatMessage) error {
	msg := m.(matrix.Message)
	i.r.mu.Lock()
	i.r.got[msg.EventID] = true
	i.r.mu.Unlock()
	i.r.seen <- msg
	if strings.HasPrefix(msg.Body, "block") {
		select {
		case <-i.r.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// A message counts as handled once answered: a handler cut short by
	// a stop is not done, and the adapter rightly gives it again.
	if err := i.Reply(ctx, "echo: "+msg.Body); err != nil {
		return err
	}
	i.r.mu.Lock()
	i.r.handled[msg.EventID]++
	i.r.texts = append(i.r.texts, msg.Body)
	i.r.mu.Unlock()
	return nil
}

// next returns the next message the recorder's handlers got.
func (r *recorder) next(t testing.TB) matrix.Message {
	t.Helper()
	select {
	case m := <-r.seen:
		return m
	case <-time.After(timeout):
		t.Fatal("no message reached the application")
		return matrix.Message{}
	}
}

// began reports whether a handler began on the event with id.
func (r *recorder) began(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[id]
}

// count returns how many times the event with id was handled.
func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handled[id]
}

// eventually waits until cond holds, failing t after timeout.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("not within %v: %s", timeout, what)
	}
}

// poll reports whether cond holds within d. It polls, since what it
// waits for is state in another process or a store file.
func poll(d time.Duration, cond func() bool) bool {
	deadline := time.After(d)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			return cond()
		}
	}
	return true
}
