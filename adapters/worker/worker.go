package worker

import (
	"context"
	"errors"
	"fmt"
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

// Type implements event.Event.
func (Disconnect) Type() string { return "channel.disconnect" }

// EndReason implements scope.Final.
func (d Disconnect) EndReason() scope.Reason { return d.Reason }

// ErrNoPlatform is returned to a worker consumer that sends an outbound
// event: a worker scope has no platform behind it; answer through the
// layer (Base.SendTo) instead.
var ErrNoPlatform = errors.New("worker: a channel scope has no platform to send to; send to a layer channel instead")

// Config configures a worker from its config section.
type Config struct {
	// Channels lists the layer channels to serve; at least one.
	Channels []string `yaml:"channels"`
}

// Adapter serves layer channels; an adapters.Host runs it.
type Adapter struct {
	name     string
	l        layer.Layer
	channels []string
}

var _ interface {
	adapters.Adapter
	adapters.Disconnecter
	adapters.Protocols
	adapters.ScopeConfigurer
} = (*Adapter)(nil)

// New returns an adapter, named "worker", that serves channels of l. Each
// channel is one scope.
func New(l layer.Layer, channels []string) (*Adapter, error) {
	if l == nil {
		return nil, errors.New("worker: no channel layer")
	}
	if len(channels) == 0 {
		return nil, errors.New("worker: name at least one channel to serve")
	}
	for _, ch := range channels {
		if err := layer.ValidChannelName(ch); err != nil {
			return nil, fmt.Errorf("worker: %w", err)
		}
	}
	return &Adapter{name: "worker", l: l, channels: channels}, nil
}

// Factory builds a worker from its config section, on Setup's layer.
func Factory(s adapters.Setup) (adapters.Adapter, error) {
	var cfg Config
	if err := s.Decode(&cfg); err != nil {
		return nil, err
	}
	a, err := New(s.Layer, cfg.Channels)
	if err != nil {
		return nil, err
	}
	if s.Name != "" {
		a.name = s.Name
	}
	return a, nil
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.name }

// Protocols implements adapters.Protocols: a worker's scopes are
// "channel" scopes.
func (a *Adapter) Protocols() []string { return []string{Protocol} }

// ScopeConfig returns c as a worker's scopes need it: a channel's scope
// lasts as long as the worker, so it never ends for being idle. It
// implements adapters.ScopeConfigurer: adapters.NewHost applies it.
func (a *Adapter) ScopeConfig(c scope.Config) scope.Config {
	c.IdleTimeout = -1
	return c
}

// Serve implements adapters.Adapter: it receives from every channel until
// ctx ends. A message is received only once the previous one of its
// channel is in the scope's inbox, so a busy worker leaves the rest in the
// layer for other worker processes. A message received when ctx ends still
// reaches its inbox, unless that takes longer than the Host's grace.
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	var loops sync.WaitGroup
	for _, ch := range a.channels {
		loops.Go(func() { a.receive(ctx, in, ch) })
	}
	in.Ready()
	loops.Wait()
	return nil
}

func (a *Adapter) receive(ctx context.Context, in *adapters.Intake, ch string) {
	newScope := func() *scope.Scope { return &scope.Scope{Type: Protocol, Adapter: a.name, Channel: ch} }
	_ = layer.Consume(ctx, a.l, ch, func(ev event.Event) error {
		if err := in.Deliver(in.Grace(), ch, ev, newScope, nil); err != nil {
			// The message was received and cannot be handled: say so
			// rather than drop it silently.
			in.Logger().Error("worker: message not handled", "channel", ch, "event", ev.Type(), "err", err)
			if errors.Is(err, scope.ErrClosed) || in.Grace().Err() != nil {
				return layer.ErrStopConsuming
			}
		}
		return nil
	}, func(err error, retryIn time.Duration) {
		in.Logger().Warn("worker: receive failed; retrying", "channel", ch, "err", err, "retry_in", retryIn)
	})
}

// Send implements adapters.Adapter: worker scopes have no platform.
func (a *Adapter) Send(_ context.Context, s *scope.Scope, ev event.Event) error {
	return fmt.Errorf("%w (%s sent %q)", ErrNoPlatform, s, ev.Type())
}

// Disconnect implements adapters.Disconnecter.
func (a *Adapter) Disconnect(_ *scope.Scope, r scope.Reason) scope.Final {
	return Disconnect{Reason: r}
}
