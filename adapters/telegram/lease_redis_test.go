package telegram_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// The Redis layer's lease is usable as the adapter's as it is.
var _ telegram.Lease = (*redis.Lease)(nil)

// redisURL returns the Redis the lease tests share, failing when nothing
// answers there: a skipped test would prove nothing. CI starts one on the
// default address.
func redisURL(t testing.TB) string {
	t.Helper()
	return redistest.URL(t)
}

// process is what one bot process has of its own: its lease calls and
// its HTTP client. kill makes both behave as after SIGKILL: nothing more
// leaves the process, so the lease is not released and accepted updates
// are not confirmed on the way out.
type process struct {
	lease telegram.Lease
	http  *http.Transport
	polls *pollWatch
	dead  atomic.Bool

	mu        sync.Mutex
	attempts  int       // Acquire calls
	lastSent  time.Time // when the last Acquire or Renew that succeeded was sent
	acquired  time.Time // when the first successful Acquire returned
	getUpdate int       // getUpdates requests sent
}

var errDead = errors.New("the process was killed")

func (p *process) Acquire(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	if p.dead.Load() {
		return false, errDead
	}
	sent := time.Now()
	ok, err := p.lease.Acquire(ctx, key, owner, ttl)
	p.mu.Lock()
	p.attempts++
	if ok {
		p.lastSent = sent
		if p.acquired.IsZero() {
			p.acquired = time.Now()
		}
	}
	p.mu.Unlock()
	return ok, err
}

func (p *process) Renew(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	if p.dead.Load() {
		return false, errDead
	}
	sent := time.Now()
	ok, err := p.lease.Renew(ctx, key, owner, ttl)
	if ok {
		p.mu.Lock()
		p.lastSent = sent
		p.mu.Unlock()
	}
	return ok, err
}

func (p *process) Release(ctx context.Context, key, owner string) error {
	if p.dead.Load() {
		return errDead
	}
	return p.lease.Release(ctx, key, owner)
}

func (p *process) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.dead.Load() {
		return nil, errDead
	}
	if !strings.HasSuffix(r.URL.Path, "/getUpdates") {
		return p.http.RoundTrip(r)
	}
	p.mu.Lock()
	p.getUpdate++
	p.mu.Unlock()
	p.polls.begin()
	defer p.polls.end()
	return p.http.RoundTrip(r)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// process's transport, so that no connection outlives the test.
func (p *process) CloseIdleConnections() { p.http.CloseIdleConnections() }

func (p *process) snapshot() (attempts, getUpdates int, lastSent, acquired time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts, p.getUpdate, p.lastSent, p.acquired
}

// pollWatch counts the getUpdates requests in flight across processes.
// The request is counted until its response headers arrive, which for a
// long poll is when the fake answers it.
type pollWatch struct {
	mu       sync.Mutex
	inflight int
	most     int
}

func (w *pollWatch) begin() {
	w.mu.Lock()
	w.inflight++
	w.most = max(w.most, w.inflight)
	w.mu.Unlock()
}

func (w *pollWatch) end() {
	w.mu.Lock()
	w.inflight--
	w.mu.Unlock()
}

func (w *pollWatch) max() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.most
}

// eventually polls cond, which reads state the adapters change on their
// own schedule, until it holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Two processes of one bot share a Redis lease. Only the holder polls:
// the other never sends getUpdates while the holder lives, and Telegram
// never answers 409. The holder is killed without releasing the lease or
// confirming anything more; the other takes over once the lease expires,
// within its ttl plus one retry interval, and gets the updates that
// arrived meanwhile. Every update is handled exactly once across the two.
func TestRedisLeaseTakeover(t *testing.T) {
	srv := telegramtest.New(t)
	url := redisURL(t)
	prefix := "sbtest." + strings.ToLower(rand.Text()[:10]) + "."
	admin := func() *goredis.Client {
		opt, _ := goredis.ParseURL(url)
		return goredis.NewClient(opt)
	}()
	// Registered first, so run last: after the adapters stopped and the
	// lease of the killed one may still be waiting to expire.
	t.Cleanup(func() {
		defer admin.Close()
		ctx := context.Background()
		iter := admin.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			admin.Unlink(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("deleting the test's keys: %v", err)
		}
	})

	const ttl = time.Second
	every := ttl / 3 // the adapter renews, and retries a lease it lacks, this often
	cfg := testConfig(srv)
	cfg.Polling.LeaseTTL = ttl
	polls := &pollWatch{}
	procs := make([]*process, 2)
	recs := make([]*recorder, 2)
	runs := make([]*running, 2)
	launch := func(i int) {
		l, err := redis.New(redis.Config{URL: url, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		p := &process{lease: l.Lease(), http: http.DefaultTransport.(*http.Transport).Clone(), polls: polls}
		hc := &http.Client{Transport: p}
		t.Cleanup(hc.CloseIdleConnections)
		a, _ := newAdapter(t, cfg, telegram.WithLease(p), telegram.WithHTTPClient(hc))
		procs[i], recs[i] = p, newRecorder()
		runs[i] = start(t, a, recs[i])
	}
	send := func(texts ...string) (last int) {
		for _, s := range texts {
			last = srv.Text(1, 1, s)
		}
		return last
	}
	handled := func(rec *recorder, texts ...string) func() bool {
		return func() bool {
			for _, s := range texts {
				if rec.texts[s] == 0 {
					return false
				}
			}
			return true
		}
	}

	first := []string{"m1", "m2", "m3", "m4", "m5"}
	send(first...)
	launch(0)
	recs[0].await(t, "process 1 to handle the first messages", handled(recs[0], first...))

	// The lease is in Redis under the prefix, named without the token.
	keys := admin.Keys(t.Context(), prefix+"*").Val()
	if len(keys) != 1 || strings.Contains(keys[0], srv.Token()) || strings.Contains(keys[0], strings.Split(srv.Token(), ":")[1]) {
		t.Fatalf("lease keys %q: want one, without the token", keys)
	}

	launch(1)
	eventually(t, "process 2 to try for the lease twice", func() bool {
		n, _, _, _ := procs[1].snapshot()
		return n >= 2
	})
	second := []string{"m6", "m7", "m8", "m9", "m10"}
	last := send(second...)
	recs[0].await(t, "process 1 to handle the second messages", handled(recs[0], second...))
	// A SIGKILL loses what was accepted and not yet confirmed, which would
	// come again to the next poller; what this test checks is that the
	// takeover itself neither loses nor repeats anything.
	if err := srv.AwaitConfirmed(last, wait); err != nil {
		t.Fatal(err)
	}
	if _, polled, _, _ := procs[1].snapshot(); polled != 0 {
		t.Fatalf("process 2 sent %d getUpdates while process 1 held the lease", polled)
	}

	procs[0].dead.Store(true)
	killed := time.Now()
	runs[0].kill(t)
	gap := []string{"g1", "g2", "g3"}
	send(gap...)
	recs[1].await(t, "process 2 to take over and handle what came after the kill", handled(recs[1], gap...))
	_, _, lastSent, _ := procs[0].snapshot()
	_, _, _, acquired := procs[1].snapshot()
	// The lease was left to expire: process 2 got it no sooner than ttl
	// after process 1 last took or renewed it (Redis keeps time in whole
	// milliseconds), and no later than one retry after that, give or take
	// scheduling.
	if acquired.Before(lastSent.Add(ttl - 2*time.Millisecond)) {
		t.Fatalf("process 2 took the lease %v after process 1 last renewed it, before the ttl %v: it was released", acquired.Sub(lastSent), ttl)
	}
	if took, limit := acquired.Sub(killed), ttl+every+500*time.Millisecond; took > limit {
		t.Fatalf("process 2 took over %v after the kill, want at most %v (ttl plus a retry interval)", took, limit)
	}

	after := []string{"n1", "n2", "n3"}
	send(after...)
	recs[1].await(t, "process 2 to handle the later messages", handled(recs[1], after...))

	if n := srv.Conflicts(); n != 0 {
		t.Errorf("%d getUpdates answered 409: two processes polled at once", n)
	}
	if n := polls.max(); n != 1 {
		t.Errorf("at most %d getUpdates were in flight at once, want 1", n)
	}
	// Each text is handled once, by the process that held the lease
	// when it arrived, and nothing else is handled.
	want := map[string]int{}
	for _, text := range append(first, second...) {
		want[text] = 0
	}
	for _, text := range append(gap, after...) {
		want[text] = 1
	}
	for i, rec := range recs {
		rec.mu.Lock()
		for text, n := range rec.texts {
			if owner, ok := want[text]; !ok || owner != i || n != 1 {
				t.Errorf("process %d handled %q %d times", i+1, text, n)
			}
		}
		for text, owner := range want {
			if owner == i && rec.texts[text] != 1 {
				t.Errorf("process %d handled %q %d times, want once", i+1, text, rec.texts[text])
			}
		}
		rec.mu.Unlock()
	}
}
