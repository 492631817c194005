package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/scope"
)

// Protocol is the scope type of worker scopes.
const Protocol = "channel"

// Disconnect ends a worker scope: "channel.disconnect".
type Disconnect struct {
	Reason scope.Reason `msgpack:"reason"`
}

func (Disconnect) Type() string { return "channel.disconnect" }

// EndReason implements scope.Final.
func (d Disconnect) EndReason() scope.Reason { return d.Reason }

// ErrNoPlatform is returned to a worker consumer that sends an outbound
// event: a worker scope has no platform behind it; answer through the
// layer (Base.SendTo) instead.
var ErrNoPlatform = errors.New("worker: a channel scope has no platform to send to; send to a layer channel instead")

// Adapter serves layer channels.
type Adapter struct {
	l        layer.Layer
	channels []string
	cfg      scope.Config
	log      *slog.Logger

	mu       sync.Mutex
	m        *scope.Manager
	cancel   context.CancelFunc // stops the receive loops
	loops    sync.WaitGroup
	stopping chan struct{}
	stopOnce sync.Once
}

var (
	_ adapters.Runner = (*Adapter)(nil)
	_ scope.Protocol   = (*Adapter)(nil)
)

// New returns an adapter that serves channels of l. Each channel is one
// scope, which never idles out. A nil logger means slog.Default().
func New(l layer.Layer, channels []string, cfg scope.Config, log *slog.Logger) (*Adapter, error) {
	if len(channels) == 0 {
		return nil, errors.New("worker: name at least one channel to serve")
	}
	for _, ch := range channels {
		if err := layer.ValidChannelName(ch); err != nil {
			return nil, fmt.Errorf("worker: %w", err)
		}
	}
	if log == nil {
		log = slog.Default()
	}
	cfg.IdleTimeout = -1
	return &Adapter{l: l, channels: channels, cfg: cfg, log: log, stopping: make(chan struct{})}, nil
}

// Name implements adapters.Runner.
func (a *Adapter) Name() string { return "worker" }

// Run receives from every channel until Shutdown or ctx ends.
func (a *Adapter) Run(ctx context.Context, app scope.Application) error {
	m, err := scope.NewManager(app, a, a.cfg, scope.WithLogger(a.log))
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	// Shutdown stops receiving (rctx) but lets a message already
	// received reach its inbox; only a hard stop (ctx) abandons it.
	rctx, cancel := context.WithCancel(ctx)
	a.mu.Lock()
	a.m, a.cancel = m, cancel
	a.mu.Unlock()
	for _, ch := range a.channels {
		a.loops.Go(func() { a.receive(rctx, ctx, m, ch) })
	}
	select {
	case <-a.stopping:
		return adapters.ErrStopped
	case <-ctx.Done():
		cancel()
		a.loops.Wait()
		_ = m.Close()
		return ctx.Err()
	}
}

// receive hands each message of ch to its scope. A message is received
// only when the previous one is in the scope's inbox, so a busy worker
// leaves the rest in the layer for other worker processes.
func (a *Adapter) receive(ctx, deliverCtx context.Context, m *scope.Manager, ch string) {
	_ = layer.Consume(ctx, a.l, ch, func(ev event.Event) error {
		err := m.Deliver(deliverCtx, ch, ev, func() *scope.Scope {
			return &scope.Scope{Type: Protocol, Adapter: a.Name(), Channel: ch}
		})
		if err != nil {
			// The message was received and cannot be handled: say so
			// rather than drop it silently.
			a.log.Error("worker: message not handled", "channel", ch, "event", ev.Type(), "err", err)
			if deliverCtx.Err() != nil || errors.Is(err, scope.ErrClosed) {
				return layer.ErrStopConsuming
			}
		}
		return nil
	}, func(err error, retryIn time.Duration) {
		a.log.Warn("worker: receive failed; retrying", "channel", ch, "err", err, "retry_in", retryIn)
	})
}

// Shutdown stops receiving, lets the channels' scopes handle what they
// have, and ends them.
func (a *Adapter) Shutdown(ctx context.Context) error {
	a.mu.Lock()
	m, cancel := a.m, a.cancel
	a.mu.Unlock()
	var err error
	if cancel != nil {
		cancel()
		a.loops.Wait()
		err = m.Shutdown(ctx)
	}
	a.stopOnce.Do(func() { close(a.stopping) })
	return err
}

// Send implements scope.Protocol: worker scopes have no platform.
func (a *Adapter) Send(_ context.Context, s *scope.Scope, ev event.Event) error {
	return fmt.Errorf("%w (%s sent %q)", ErrNoPlatform, s, ev.Type())
}

// Disconnect implements scope.Protocol.
func (a *Adapter) Disconnect(_ *scope.Scope, r scope.Reason) scope.Final {
	return Disconnect{Reason: r}
}
