package redis_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/timer"
	"github.com/switchboard-bots/switchboard/timer/redis"
	"github.com/switchboard-bots/switchboard/timer/timertest"
)

// fired records when each timer reached its conversation's instance.
type fired struct {
	mu    sync.Mutex
	at    map[int][]time.Time
	conv  map[int]string
	total int
	all   chan struct{}
	want  int
	part  chan struct{} // closed once partWant timers fired
	partN int
}

func (f *fired) app() scope.Application {
	return scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(_ context.Context, ev event.Event) error {
			if _, final := ev.(scope.Final); final {
				return nil
			}
			p, err := event.Decode[timertest.Ping](ev)
			if err != nil {
				return err
			}
			now := time.Now()
			f.mu.Lock()
			defer f.mu.Unlock()
			f.at[p.N] = append(f.at[p.N], now)
			f.conv[p.N] = s.Key
			f.total++
			if len(f.at) == f.partN && f.part != nil {
				close(f.part)
				f.part = nil
			}
			if len(f.at) == f.want && f.all != nil {
				close(f.all)
				f.all = nil
			}
			return nil
		}), nil
	})
}

func (f *fired) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.at)
}

type nopChat struct{}

func (nopChat) Send(context.Context, *scope.Scope, event.Event) error { return nil }
func (nopChat) Disconnect(s *scope.Scope, r scope.Reason) scope.Final {
	return consumertest.Disconnect{Protocol: s.Type, Reason: r}
}

// process is one botserver's worth of timers: a scope manager and a
// runner with a Redis client of their own.
type process struct {
	m      *scope.Manager
	cancel context.CancelFunc
	done   chan struct{}
}

func startProcess(t *testing.T, prefix string, f *fired, rt *trips) *process {
	m, err := scope.NewManager(f.app(), nopChat{}, scope.Config{IdleTimeout: 200 * time.Millisecond, MaxScopes: 300})
	if err != nil {
		t.Fatal(err)
	}
	c := client(t)
	c.AddHook(rt)
	st := redis.New(c, redis.WithPrefix(prefix))
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{m: m, cancel: cancel, done: make(chan struct{})}
	r := timer.NewRunner(st, "chat", timer.ManagerDeliverer(m), timer.WithPollInterval(50*time.Millisecond), timer.WithLease(500*time.Millisecond))
	go func() { defer close(p.done); _ = r.Run(ctx) }()
	return p
}

// kill stops the process at once: its runner stops between any two steps,
// and its scopes end without waiting for anything.
func (p *process) kill() {
	p.cancel()
	<-p.done
	_ = p.m.Close()
}

// TestTenThousandTimersAcrossARestart: 10,000 timers over 1,000
// conversations, due over four seconds, served by two processes; one is
// killed midway and a new one starts. Every timer fires once, in its own
// conversation; the test logs how late they were and the runners' round
// trips to Redis per fired timer.
func TestTenThousandTimersAcrossARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds")
	}
	const n, convs = 10_000, 1_000
	prefix := testPrefix(t)
	st := redis.New(client(t), redis.WithPrefix(prefix))
	f := &fired{at: map[int][]time.Time{}, conv: map[int]string{}, all: make(chan struct{}), want: n,
		part: make(chan struct{}), partN: n * 4 / 10}
	allFired, partFired := f.all, f.part
	due := make([]time.Time, n)
	// Far enough ahead for scheduling 10,000 timers on a busy machine to
	// end before the first is due; the race detector makes it take some
	// four seconds on a shared 2-CPU machine.
	ahead := 3 * time.Second
	if raceEnabled {
		ahead = 8 * time.Second
	}
	start := time.Now().Add(ahead)
	batch := make([]timer.Timer, 0, 500)
	for i := range n {
		due[i] = start.Add(time.Duration(i) * 4 * time.Second / n)
		key := "c" + strconv.Itoa(i%convs)
		batch = append(batch, timer.Timer{Adapter: "chat", Key: key, Name: "t" + strconv.Itoa(i),
			At: due[i], Event: timertest.Ping{N: i}, Scope: timer.Facts{Type: "chat", Adapter: "chat", Key: key}})
		if len(batch) == cap(batch) {
			if err := st.Schedule(context.Background(), batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if late := time.Since(start); late > 0 {
		t.Fatalf("scheduling ended %v after the first timer was due", late)
	}

	rt := new(trips)
	a, b := startProcess(t, prefix, f, rt), startProcess(t, prefix, f, rt)
	select {
	case <-partFired:
	case <-time.After(30 * time.Second):
		t.Fatalf("%d of %d timers fired", f.count(), n)
	}
	a.kill()
	killedAt := f.count()
	c := startProcess(t, prefix, f, rt)
	select {
	case <-allFired:
	case <-time.After(30 * time.Second):
		t.Fatalf("%d of %d timers fired", f.count(), n)
	}
	// A lease and more, for anything claimed twice to show.
	time.Sleep(700 * time.Millisecond)
	b.kill()
	c.kill()

	f.mu.Lock()
	defer f.mu.Unlock()
	lateness := make([]time.Duration, 0, n)
	for i := range n {
		at := f.at[i]
		if len(at) != 1 {
			t.Errorf("timer %d fired %d times", i, len(at))
			continue
		}
		if want := "c" + strconv.Itoa(i%convs); f.conv[i] != want {
			t.Errorf("timer %d fired in %s; want %s", i, f.conv[i], want)
		}
		lateness = append(lateness, at[0].Sub(due[i]))
	}
	slices.Sort(lateness)
	q := func(p float64) time.Duration {
		return lateness[int(p*float64(len(lateness)-1))].Round(time.Millisecond)
	}
	t.Logf("%d timers fired once each (%d before the kill); lateness p50 %v, p90 %v, p99 %v, max %v, min %v",
		len(lateness), killedAt, q(0.5), q(0.9), q(0.99), q(1), q(0))
	t.Logf("the runners made %s", rt.per(f.total))
	if max := lateness[len(lateness)-1]; max > time.Second && !raceEnabled {
		t.Errorf("a timer fired %v late; want at most 1s", max)
	}
}
