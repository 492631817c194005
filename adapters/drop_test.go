package adapters_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/scope"
)

// drops is a DropObserver that records each drop's adapter and reason.
type drops struct {
	mu  sync.Mutex
	got []string
}

func (*drops) OutboundRetry(string)                {}
func (*drops) RateLimitWait(string, time.Duration) {}
func (d *drops) InboundDropped(adapter, reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, adapter+"/"+reason)
}

var _ adapters.DropObserver = (*drops)(nil)

// TestDropCountsAndLogs: a TryDeliver refused by a full inbox and an
// event the adapter found unfit are each logged with the adapter, the
// key, the error, the count so far and the adapter's own attributes, and
// reported to the observer by reason.
func TestDropCountsAndLogs(t *testing.T) {
	var logs logtest.Buffer
	obs := &drops{}
	f := newFake()
	h := adapters.NewHost(f, adapters.WithLogger(logs.Logger()), adapters.WithObserver(obs),
		adapters.WithScopes(scope.Config{InboxSize: 1}))
	release := make(chan struct{})
	ap := newApp(func(ctx context.Context, _ *scope.Scope, _ note) error {
		<-release
		return nil
	})
	r := run(t, context.Background(), h, ap)
	in := recv(t, f.intake)

	// The first note is being handled, the second fills the inbox of one.
	var full error
	for i := 0; full == nil && i < 3; i++ {
		full = in.TryDeliver("chat", note{"n"}, newScope, nil)
	}
	if !errors.Is(full, scope.ErrInboxFull) {
		t.Fatalf("TryDeliver into a full inbox = %v, want ErrInboxFull", full)
	}
	in.Drop("chat", full, "from", "alice")
	in.Drop("other", errors.New("not UTF-8"))
	logs.Await(t, "dropped_total=2", wait)
	for _, want := range []string{
		`msg="inbound message dropped" adapter=fake key=chat err="scope fake:chat: scope: inbox full (1 events)" dropped_total=1 from=alice`,
		`key=other err="not UTF-8" dropped_total=2`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	obs.mu.Lock()
	got := strings.Join(obs.got, " ")
	obs.mu.Unlock()
	if got != "fake/inbox_full fake/unfit" {
		t.Errorf("observer saw %q, want fake/inbox_full fake/unfit", got)
	}
	close(release)
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.wait(t)
}
