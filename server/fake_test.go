package server_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/ratelimit"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/server"
)

// fakeMessage is the fake adapter's inbound event.
type fakeMessage struct{ Text string }

func (fakeMessage) Type() string { return "fake.message" }

// fakeSay is what the recording bot answers.
type fakeSay struct{ Text string }

func (fakeSay) Type() string { return "fake.say" }

// fakeConfig is the fake adapter's section.
type fakeConfig struct {
	Greeting string `yaml:"greeting"`
	// Refuse makes the factory fail with this text, as a real factory
	// refuses a section it cannot serve.
	Refuse string `yaml:"refuse"`
	// Rename makes the adapter take another name than its section's.
	Rename string `yaml:"rename"`
	// Idle is the idle timeout the adapter demands of its scopes, through
	// its ScopeConfig, whatever the config says. Zero: none demanded.
	Idle time.Duration `yaml:"idle"`
}

// fakeAdapter is an adapters.Adapter of kind "fake": the test types
// messages into its inbox, and reads what the bot sent and what was pushed.
type fakeAdapter struct {
	name   string
	cfg    fakeConfig
	inbox  chan string
	sent   chan event.Event
	pushed chan event.Event
	ended  chan scope.Reason
	// layer is the Setup's layer the factory was given.
	layer layer.Layer
	// limiter is the Setup's shared rate limits.
	limiter ratelimit.Limiter
	served  atomic.Bool // Serve was called
}

var (
	_ adapters.Adapter   = (*fakeAdapter)(nil)
	_ adapters.Pusher    = (*fakeAdapter)(nil)
	_ adapters.Protocols = (*fakeAdapter)(nil)
	_ adapters.Ender     = (*fakeAdapter)(nil)

	_ adapters.ScopeConfigurer = (*fakeAdapter)(nil)
)

func (a *fakeAdapter) ScopeConfig(c scope.Config) scope.Config {
	if a.cfg.Idle != 0 {
		c.IdleTimeout = a.cfg.Idle
	}
	return c
}

func (a *fakeAdapter) Ended(_ *scope.Scope, r scope.Reason, _ error) {
	select {
	case a.ended <- r:
	default:
	}
}

func (a *fakeAdapter) Name() string        { return a.name }
func (a *fakeAdapter) Protocols() []string { return []string{"fake"} }

func (a *fakeAdapter) Serve(ctx context.Context, in *adapters.Intake) error {
	a.served.Store(true)
	in.Ready()
	for {
		select {
		case <-ctx.Done():
			return nil
		case text := <-a.inbox:
			err := in.Deliver(ctx, "c", fakeMessage{Text: text}, func() *scope.Scope {
				return &scope.Scope{Type: "fake", Adapter: a.name, Key: "c"}
			}, nil)
			if err != nil && ctx.Err() == nil {
				return err
			}
		}
	}
}

func (a *fakeAdapter) Send(_ context.Context, _ *scope.Scope, ev event.Event) error {
	a.sent <- ev
	return nil
}

func (a *fakeAdapter) Push(_ context.Context, ev event.Event) error {
	a.pushed <- ev
	return nil
}

// fakes is the fake adapter kind of one test: its factory and the
// adapters it made, by name.
type fakes struct {
	mu   sync.Mutex
	made map[string]*fakeAdapter
	all  []*fakeAdapter // every adapter made, in order
}

func (f *fakes) factory(s adapters.Setup) (adapters.Adapter, error) {
	var cfg fakeConfig
	if err := s.Decode(&cfg); err != nil {
		return nil, err
	}
	if cfg.Refuse != "" {
		return nil, errors.New(cfg.Refuse)
	}
	a := &fakeAdapter{name: s.Name, cfg: cfg, inbox: make(chan string, 10), sent: make(chan event.Event, 10),
		pushed: make(chan event.Event, 10), ended: make(chan scope.Reason, 10), layer: s.Layer,
		limiter: s.Limiter}
	if cfg.Rename != "" {
		a.name = cfg.Rename
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.made == nil {
		f.made = map[string]*fakeAdapter{}
	}
	f.made[s.Name] = a
	f.all = append(f.all, a)
	return a, nil
}

func (f *fakes) get(name string) *fakeAdapter {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.made[name]
}

// replier is a bot that answers each fake.message with a fake.say naming
// the adapter that made its scope.
func replier() server.Bot {
	return func(server.Deps) (scope.Application, error) {
		return scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
			return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
				if m, ok := ev.(fakeMessage); ok {
					return conn.Send(ctx, fakeSay{Text: s.Adapter + ": " + m.Text})
				}
				return nil
			}), nil
		}), nil
	}
}

// only is a bot that says which protocols it has handlers for.
type only struct {
	scope.ApplicationFunc
	protocol string
}

func (o only) HandlesProtocol(p string) bool { return p == o.protocol }

// serving returns the last adapter named name whose Serve was called, or
// nil: Check builds adapters that never serve.
func (f *fakes) serving(name string) *fakeAdapter {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.all) - 1; i >= 0; i-- {
		if a := f.all[i]; a.name == name && a.served.Load() {
			return a
		}
	}
	return nil
}
