package layertest

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// Factory returns a fresh layer configured by cfg. The suite closes every
// layer it gets, so the factory need not, but it may register cleanup of
// its own; Close must therefore tolerate being called twice.
type Factory func(t *testing.T, cfg layer.Config) layer.Layer

// Features declares what a backend guarantees beyond the basics every
// backend must pass. Cases that need an unclaimed feature are skipped.
type Features struct {
	// MultiProcess means that two layers made by the factory within one
	// test share their channels and groups, as two processes using one
	// server do.
	MultiProcess bool
	// ProcessLocalChannels means that a channel name from NewChannel can
	// be sent to through any layer sharing the backend and is received
	// through the layer that made it. The cases need MultiProcess too.
	ProcessLocalChannels bool
	// Expiry means that messages not received within Config.Expiry are
	// dropped and stop counting against the channel's capacity.
	Expiry bool
	// GroupExpiry means that memberships not refreshed within
	// Config.GroupExpiry lapse.
	GroupExpiry bool

	// Advance moves the clock of l, a layer the factory made, forward by
	// d. When nil, expiry cases wait for the real clock, with expiries of
	// Tick.
	Advance func(l layer.Layer, d time.Duration)
	// Tick is the shortest Expiry and GroupExpiry the backend honours on
	// the real clock; expiry cases wait one and a half of them. It is
	// unused when Advance is set. Default: 200 ms.
	Tick time.Duration

	// Restart restarts the server behind the backend, such as a Redis,
	// and returns once it accepts connections again. Layers made before
	// must recover. When nil, reconnection cases are skipped.
	Restart func(t *testing.T)
}

const (
	defaultTick = 200 * time.Millisecond
	// caseTimeout bounds every wait in a case, so that a backend that
	// loses a message fails the case instead of hanging the test binary.
	caseTimeout = 30 * time.Second
)

type testCase struct {
	name string
	run  func(*testing.T, Factory, Features)
	// serial cases affect the whole backend (Flush, Restart), so they
	// must not overlap the other cases on a shared server.
	serial bool
}

func cases() []testCase {
	return []testCase{
		{name: "RoundTrip", run: TestRoundTrip},
		{name: "Order", run: TestOrder},
		{name: "Capacity", run: TestCapacity},
		{name: "Expiry", run: TestExpiry},
		{name: "NewChannel", run: TestNewChannel},
		{name: "InvalidNames", run: TestInvalidNames},
		{name: "InvalidEvents", run: TestInvalidEvents},
		{name: "Group", run: TestGroup},
		{name: "GroupSkipsFull", run: TestGroupSkipsFull},
		{name: "GroupExpiry", run: TestGroupExpiry},
		{name: "ReceiveBlocks", run: TestReceiveBlocks},
		{name: "ReceiveCancel", run: TestReceiveCancel},
		{name: "ReceiveCancelRace", run: TestReceiveCancelRace},
		{name: "Close", run: TestClose},
		{name: "Concurrent", run: TestConcurrent},
		{name: "MultiProcess", run: TestMultiProcess},
		{name: "ProcessLocal", run: TestProcessLocal},
		{name: "Subscribe", run: TestSubscribe},
		{name: "Flush", run: TestFlush, serial: true},
		{name: "Restart", run: TestRestart, serial: true},
	}
}

// Run runs every case as a subtest of t. Cases that touch only their own
// channels run in parallel; Flush and Restart run first, one at a time,
// because they affect everything on the backend.
func Run(t *testing.T, newLayer Factory, f Features) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			if !c.serial {
				t.Parallel()
			}
			c.run(t, newLayer, f)
		})
	}
}

// harness is what every case starts with: the factory, a deadline and a
// source of names no other case or test run uses.
type harness struct {
	t       *testing.T
	ctx     context.Context
	f       Features
	factory Factory
	base    string
	seq     atomic.Int64
}

func begin(t *testing.T, factory Factory, f Features) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), caseTimeout)
	t.Cleanup(cancel)
	// Lower-case letters and digits only, so the base is a valid name.
	token := strings.ToLower(rand.Text()[:10])
	return &harness{t: t, ctx: ctx, f: f, factory: factory, base: "lt." + token}
}

func (h *harness) open(cfg layer.Config) layer.Layer {
	h.t.Helper()
	l := h.factory(h.t, cfg)
	if l == nil {
		h.t.Fatal("factory returned a nil layer")
	}
	h.t.Cleanup(func() { _ = l.Close() })
	return l
}

// name returns a channel or group name unique to this case.
func (h *harness) name(label string) string {
	return fmt.Sprintf("%s.%s%d", h.base, label, h.seq.Add(1))
}

func (h *harness) tick() time.Duration {
	if h.f.Tick > 0 {
		return h.f.Tick
	}
	return defaultTick
}

// elapse lets d pass on l's clock.
func (h *harness) elapse(l layer.Layer, d time.Duration) {
	if h.f.Advance != nil {
		h.f.Advance(l, d)
		return
	}
	// Expiry is about time passing, so on the real clock there is nothing
	// to wait for but the clock itself.
	time.Sleep(d)
}

func (h *harness) send(l layer.Layer, channel string, ev event.Event) {
	h.t.Helper()
	if err := l.Send(h.ctx, channel, ev); err != nil {
		h.t.Fatalf("Send(%q, %v): %v", channel, ev, err)
	}
}

func (h *harness) receive(l layer.Layer, channel string) event.Event {
	h.t.Helper()
	ev, err := l.Receive(h.ctx, channel)
	if err != nil {
		h.t.Fatalf("Receive(%q): %v", channel, err)
	}
	return ev
}

func (h *harness) expect(l layer.Layer, channel string, want event.Event) {
	h.t.Helper()
	got := h.receive(l, channel)
	if ok, diff := sameEvent(want, got); !ok {
		h.t.Fatalf("Receive(%q): %s", channel, diff)
	}
}

// expectEmpty proves that channel holds nothing: a marker sent now must be
// the next message received.
func (h *harness) expectEmpty(l layer.Layer, channel string) {
	h.t.Helper()
	h.send(l, channel, marker)
	got := h.receive(l, channel)
	if ok, _ := sameEvent(marker, got); !ok {
		h.t.Fatalf("Receive(%q): got %v, want the channel to be empty", channel, got)
	}
}

func ping(got event.Event) (Ping, error) { return event.Decode[Ping](got) }

type result struct {
	ev  event.Event
	err error
}

// receiveAsync starts a Receive whose outcome arrives on the returned
// channel.
func receiveAsync(ctx context.Context, l layer.Layer, channel string) <-chan result {
	res := make(chan result, 1)
	go func() {
		ev, err := l.Receive(ctx, channel)
		res <- result{ev, err}
	}()
	return res
}

// settle lets goroutines just started run until they block, so that
// cases reach the interleavings they are about, such as closing a layer
// under a waiting receiver, most of the time. Outcomes never depend on it:
// a correct backend passes whichever interleaving happens.
func settle() {
	for range 20 {
		runtime.Gosched()
	}
}

func (h *harness) await(res <-chan result) result {
	h.t.Helper()
	select {
	case r := <-res:
		return r
	case <-h.ctx.Done():
		h.t.Fatal("Receive did not return in time")
		return result{}
	}
}
