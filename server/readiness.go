package server

import (
	"context"
	"fmt"
	"sync"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// layerProbe is the channel layer's readiness: it answers pings and takes
// writes. A Redis out of memory under maxmemory-policy noeviction answers
// PING and refuses every write, so only a write shows it: the probe sends
// a message to a channel of its own and takes it back.
type layerProbe struct {
	l    layer.Layer
	ping func(context.Context) error

	mu sync.Mutex // one probe at a time, on one channel
	ch string     // the probe's channel, once made
}

// probeType is the type of the probe's messages.
const probeType = "readyz.probe"

func (p *layerProbe) check(ctx context.Context) error {
	if err := p.ping(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch == "" {
		ch, err := p.l.NewChannel(ctx, "readyz.")
		if err != nil {
			return fmt.Errorf("cannot make a channel: %w", err)
		}
		p.ch = ch
	}
	if err := p.l.Send(ctx, p.ch, event.Message{"type": probeType}); err != nil {
		return fmt.Errorf("refuses writes: %w", err)
	}
	if _, err := p.l.Receive(ctx, p.ch); err != nil {
		return fmt.Errorf("does not deliver: %w", err)
	}
	return nil
}
