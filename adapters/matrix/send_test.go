package matrix_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/matrix"
	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

// TestRetriedSendNotDuplicated: a send whose answer is lost after the
// homeserver committed it is tried again with the same transaction id,
// and the room gets one message.
func TestRetriedSendNotDuplicated(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	r := run(t, newAdapter(t, testConfig(srv), nil), newRecorder())
	srv.LoseAnswers(2)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := r.host.Push(ctx, matrix.Send{RoomID: roomOf("a"), Text: "once"}); err != nil {
		t.Fatalf("Push: %v", err)
	}
	sent := srv.Sent()
	if len(sent) != 1 || sent[0].Body() != "once" {
		t.Fatalf("the room got %d events (%+v), want one", len(sent), sent)
	}
	if n := srv.Replays(); n != 2 {
		t.Errorf("the homeserver saw %d sends repeat a transaction id, want 2 (one per lost answer)", n)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

// TestTxnIDsUnique: two adapters on one token (a restart) never reuse a
// transaction id, which would make the homeserver swallow a new message.
func TestTxnIDsUnique(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for i := range 2 {
		r := run(t, newAdapter(t, testConfig(srv), nil), newRecorder())
		for j := range 3 {
			if err := r.host.Push(ctx, matrix.Send{RoomID: roomOf("a"), Text: fmt.Sprint(i, j)}); err != nil {
				t.Fatal(err)
			}
		}
		r.shutdown(t)
	}
	seen := map[string]bool{}
	for _, s := range srv.Sent() {
		if seen[s.TxnID] {
			t.Errorf("transaction id %s used twice", s.TxnID)
		}
		seen[s.TxnID] = true
	}
	if len(seen) != 6 || srv.Replays() != 0 {
		t.Errorf("%d distinct transaction ids and %d replays, want 6 and 0", len(seen), srv.Replays())
	}
}

// TestRateLimit: a burst of sends from several conversations against a
// homeserver that answers M_LIMIT_EXCEEDED past 5 sends per 100ms: every
// message arrives once, in order per room, and no send reaches the
// homeserver while the account is limited.
func TestRateLimit(t *testing.T) {
	srv := matrixtest.New(t)
	rooms := []string{"a", "b", "c"}
	for _, c := range rooms {
		srv.Joined(roomOf(c))
	}
	srv.SetRateLimit(matrixtest.RateLimit{Burst: 5, Per: 100 * time.Millisecond, RetryAfter: 30 * time.Millisecond})
	cfg := testConfig(srv)
	cfg.Retry.MaxAttempts = 50
	rec := newRecorder()
	obs := &observer{}
	run(t, newAdapter(t, cfg, nil), rec, adapters.WithObserver(obs))
	const n = 20
	for i := range n {
		for _, c := range rooms {
			srv.Say(roomOf(c), user, fmt.Sprintf("%s-%d", c, i))
		}
	}
	sent, err := srv.AwaitSent(n*len(rooms), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	for _, s := range sent {
		c := strings.TrimSuffix(strings.TrimPrefix(s.Room, "!"), ":example.org")
		if want := fmt.Sprintf("echo: %s-%d", c, next[c]); s.Body() != want {
			t.Fatalf("room %s got %q, want %q", c, s.Body(), want)
		}
		next[c]++
	}
	if v := srv.Violations(); len(v) != 0 {
		t.Errorf("%d violations of the rate limit: %q", len(v), v)
	}
	retries, waits, waited := obs.counts()
	if retries == 0 || waits == 0 || waited <= 0 {
		t.Errorf("the observer saw %d retries and %d rate-limit waits (%v): want some of each", retries, waits, waited)
	}
	t.Logf("%d messages in %d rooms through a limit of 5 per 100ms: 0 violations, %d retries, %d waits totalling %v",
		len(sent), len(rooms), retries, waits, waited)
}

// observer counts what an adapter reports.
type observer struct {
	mu      sync.Mutex
	retries int
	waits   int
	waited  time.Duration
}

func (o *observer) OutboundRetry(string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries++
}

func (o *observer) RateLimitWait(_ string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waits++
	o.waited += d
}

func (o *observer) counts() (int, int, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.retries, o.waits, o.waited
}

// TestRefusedIsTyped: M_FORBIDDEN from the homeserver is an
// *adapters.RefusedError with the errcode, and a room the bot is not in
// is refused the same way.
func TestRefusedIsTyped(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	srv.Refuse(roomOf("a"))
	r := run(t, newAdapter(t, testConfig(srv), nil), newRecorder())
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, room := range []string{roomOf("a"), roomOf("elsewhere")} {
		err := r.host.Push(ctx, matrix.Send{RoomID: room, Text: "hi"})
		re, ok := errors.AsType[*adapters.RefusedError](err)
		if !ok || !errors.Is(err, adapters.ErrRefused) {
			t.Fatalf("push to %s: %v, want a *adapters.RefusedError", room, err)
		}
		if re.Code != "M_FORBIDDEN" || re.Temporary || re.Adapter != "matrix" {
			t.Errorf("push to %s: %+v, want a standing M_FORBIDDEN from adapter matrix", room, re)
		}
	}
}

// TestTokenNeverLogged: the access token appears in no log line, even
// when every call fails and is logged.
func TestTokenNeverLogged(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	var logs logtest.Buffer
	cfg := testConfig(srv)
	a := newAdapter(t, cfg, &logs)
	r := run(t, a, newRecorder())
	srv.Refuse(roomOf("a"))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = r.host.Push(ctx, matrix.Send{RoomID: roomOf("a"), Text: "x"})
	srv.Close() // every sync fails from now on, and is logged
	logs.Await(t, "sync failed", timeout)
	r.shutdown(t)
	if out := logs.String() + fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg); strings.Contains(out, srv.Token()) {
		t.Fatalf("the access token was logged or printed:\n%s", out)
	}
}

// TestUnauthorized: a token the homeserver does not know ends Run with
// ErrUnauthorized, without retrying for ever.
func TestUnauthorized(t *testing.T) {
	srv := matrixtest.New(t)
	cfg := testConfig(srv)
	cfg.AccessToken = "wrong"
	h := adapters.NewHost(newAdapter(t, cfg, nil))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := h.Run(ctx, newRecorder()); !errors.Is(err, matrix.ErrUnauthorized) {
		t.Fatalf("Run: %v, want ErrUnauthorized", err)
	}
}

// TestConcurrentPushes: pushes from many goroutines each arrive once.
func TestConcurrentPushes(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	cfg := testConfig(srv)
	cfg.MaxInflight = 4
	r := run(t, newAdapter(t, cfg, nil), newRecorder())
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if err := r.host.Push(ctx, matrix.Send{RoomID: roomOf("a"), Text: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(srv.Sent()); n != 40 {
		t.Fatalf("%d messages arrived, want 40", n)
	}
}

// TestPushThroughLayer: a matrix.send that any process sends to the
// layer channel push.matrix is posted to the room it names.
func TestPushThroughLayer(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	run(t, newAdapter(t, testConfig(srv), nil), newRecorder(), adapters.WithPushes(l))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := l.Send(ctx, adapters.PushChannel("matrix"), matrix.Send{RoomID: roomOf("a"), Text: "from a worker", Notice: true}); err != nil {
		t.Fatal(err)
	}
	sent, err := srv.AwaitSent(1, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].Body() != "from a worker" || sent[0].Content["msgtype"] != "m.notice" {
		t.Fatalf("posted %v, want the pushed notice", sent[0].Content)
	}
}
