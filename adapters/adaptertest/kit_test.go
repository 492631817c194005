package adaptertest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The kit runs here against chatnet, a reference adapter for a platform
// that keeps its conversations in memory: a connection that can drop,
// acknowledgements, refusals and pushes, so that every check runs.

// update is one inbound message on the platform; bad marks input the
// adapter must reject.
type update struct {
	id         int
	conv, text string
	bad        bool
}

// platform is chatnet's side, and the kit's Platform.
type platform struct {
	inbox   chan update    // what users said, in order
	replies chan [2]string // what the adapter posted: conversation, text

	mu      sync.Mutex
	nextID  int
	convOf  map[int]string  // update id -> conversation
	acked   map[string]int  // acknowledged updates per conversation
	refused map[string]bool // conversations that refuse posts
	link    chan struct{}   // closed when the current connection drops
}

var (
	_ adaptertest.PushPlatform    = (*platform)(nil)
	_ adaptertest.AddressPlatform = (*platform)(nil)
	_ adaptertest.RefusePlatform  = (*platform)(nil)
	_ adaptertest.AckPlatform     = (*platform)(nil)
	_ adaptertest.DropPlatform    = (*platform)(nil)
	_ adaptertest.SayPlatform     = (*platform)(nil)
)

func newPlatform() *platform {
	return &platform{
		inbox: make(chan update, 1000), replies: make(chan [2]string, 1000),
		convOf: map[int]string{}, acked: map[string]int{}, refused: map[string]bool{},
	}
}

func (p *platform) Say(t testing.TB, conv, text string) {
	p.mu.Lock()
	p.nextID++
	u := update{id: p.nextID, conv: conv, text: text}
	p.convOf[u.id] = conv
	p.mu.Unlock()
	p.inbox <- u
}

func (p *platform) SayBad(testing.TB) { p.inbox <- update{bad: true} }

func (p *platform) Reply(t testing.TB) (string, string) {
	t.Helper()
	select {
	case r := <-p.replies:
		return r[0], r[1]
	case <-time.After(adaptertest.Timeout):
		t.Fatal("chatnet: nothing was posted")
		return "", ""
	}
}

func (p *platform) PushEvent(conv, text string) event.Event { return push{Conv: conv, Text: text} }

func (p *platform) Address(conv string) string { return conv }

func (p *platform) Refuse(_ testing.TB, conv string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused[conv] = true
}

func (p *platform) Acked(_ testing.TB, conv string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acked[conv]
}

func (p *platform) Drop(testing.TB) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.link != nil {
		close(p.link)
		p.link = nil
	}
}

func (p *platform) SaysChat() {}

// connect opens a connection: the returned channel closes when it drops.
func (p *platform) connect() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.link = make(chan struct{})
	return p.link
}

func (p *platform) ack(id int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.acked[p.convOf[id]]++
}

// post says text in conv, or refuses to.
func (p *platform) post(conv, text string) error {
	p.mu.Lock()
	refused := p.refused[conv]
	p.mu.Unlock()
	if refused {
		return &adapters.RefusedError{Adapter: "chatnet", Method: "post", Code: "blocked", Description: "the user blocked the bot"}
	}
	p.replies <- [2]string{conv, text}
	return nil
}

// message is chatnet's inbound event.
type message struct{ Text string }

func (message) Type() string                        { return "chatnet.message" }
func (m message) ChatText() string                  { return m.Text }
func (m message) ChatReply(text string) event.Event { return event.Say{Text: text} }

// push is chatnet's outbound event naming its conversation.
type push struct {
	Conv string `msgpack:"conv"`
	Text string `msgpack:"text"`
}

func (push) Type() string { return "chatnet.push" }

// fault is a way for chatnet to be wrong, for checking that the kit
// notices.
type fault string

const (
	earlyAck    fault = "early-ack"  // acknowledge on receipt
	ackAnyway   fault = "ack-anyway" // acknowledge even what was not handled
	noFault     fault = ""
	faultEnvVar       = "ADAPTERTEST_CHATNET_FAULT"
)

// adapter is chatnet's adapter.
type adapter struct {
	p     *platform
	fault fault
}

var (
	_ adapters.Adapter = (*adapter)(nil)
	_ adapters.Pusher  = (*adapter)(nil)
)

func (a *adapter) Name() string { return "chatnet" }

func (a *adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	for {
		link := a.p.connect()
		in.Ready()
	serve:
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-link:
				break serve // reconnect
			case u := <-a.p.inbox:
				if u.bad || u.conv == "" {
					in.Logger().Warn("chatnet: bad update", "id", u.id)
					continue
				}
				if err := in.Deliver(ctx, u.conv, message{u.text}, a.newScope(u.conv), a.acker(u.id)); err != nil {
					return nil // stopping
				}
			}
		}
	}
}

func (a *adapter) newScope(conv string) func() *scope.Scope {
	return func() *scope.Scope {
		s := &scope.Scope{Type: "chatnet", Adapter: a.Name(), Chat: scope.Chat{ID: conv}}
		s.SetAdapterValue(conv)
		return s
	}
}

func (a *adapter) acker(id int) scope.Ack {
	switch a.fault {
	case earlyAck:
		a.p.ack(id)
		return nil
	case ackAnyway:
		return func(error) { a.p.ack(id) }
	}
	return func(err error) {
		if err == nil {
			a.p.ack(id)
		}
	}
}

func (a *adapter) Send(_ context.Context, s *scope.Scope, ev event.Event) error {
	conv, _ := adapters.Value[string](s)
	switch ev := ev.(type) {
	case event.Say:
		return a.p.post(conv, ev.Text)
	}
	return fmt.Errorf("chatnet: cannot send %s: %w", ev.Type(), adapters.ErrUnsupported)
}

func (a *adapter) Push(_ context.Context, ev event.Event) error {
	if say, ok := ev.(event.Say); ok && say.To != "" {
		return a.p.post(say.To, say.Text)
	}
	p, ok := ev.(push)
	if !ok {
		return fmt.Errorf("chatnet: cannot push %s: %w", ev.Type(), adapters.ErrUnsupported)
	}
	return a.p.post(p.Conv, p.Text)
}

func harness(f fault) adaptertest.Harness {
	return func(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
		p := newPlatform()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		return adapters.NewHost(&adapter{p: p, fault: f}, adapters.WithScopes(cfg), adapters.WithLogger(log)), p
	}
}

func TestKit(t *testing.T) {
	if f := os.Getenv(faultEnvVar); f != "" {
		// A child process of TestKitNoticesFaults: run the kit against
		// a faulty chatnet, which must fail.
		adaptertest.Run(t, harness(fault(f)))
		return
	}
	adaptertest.Run(t, harness(noFault))
}

// TestKitNoticesFaults runs the kit against faulty adapters in a child
// process (a failing check cannot be caught in this one) and expects it
// to fail, naming the fault.
func TestKitNoticesFaults(t *testing.T) {
	if os.Getenv(faultEnvVar) != "" {
		t.Skip("the child process only runs TestKit")
	}
	for _, c := range []struct {
		f    fault
		want string
	}{
		{earlyAck, "while its second message's handler runs"},
		{ackAnyway, "after a hard stop mid-event"},
	} {
		t.Run(string(c.f), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestKit$/^AckAfterHandling$", "-test.count=1")
			cmd.Env = append(os.Environ(), faultEnvVar+"="+string(c.f))
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the kit passed an adapter with fault %s:\n%s", c.f, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Fatalf("the kit failed without naming the fault (%q):\n%s", c.want, out)
			}
		})
	}
}
