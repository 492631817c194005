package memory

import (
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/layer"
)

// errSubscribed reports a second subscriber for one channel.
var errSubscribed = errors.New("layer: channel already has a subscriber")

// Subscribe makes deliver the receiver of channel, a process-local
// channel (see layer.Subscriber). Messages queued on the channel are
// delivered at once; later ones are delivered by their sender, on its
// goroutine, so that no receiver runs at all: a group send hands each
// subscribed member the same layer.Shared. A subscribed channel is never
// full, since nothing waits in it.
func (l *Layer) Subscribe(channel string, deliver func(*layer.Shared)) (func(), error) {
	if err := layer.ValidChannelName(channel); err != nil {
		return nil, err
	}
	if !strings.Contains(channel, "!") {
		return nil, fmt.Errorf("layer: subscribe to %q: %w: only process-local channels take subscribers", channel, layer.ErrInvalidName)
	}
	s := &l.shards[l.shardIndex(channel)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.closed.Load() {
		return nil, layer.ErrClosed
	}
	now := l.now()
	c := s.channels[channel]
	if c == nil {
		c = l.create(s, channel, now)
	}
	if c.sub != nil {
		return nil, fmt.Errorf("layer: subscribe to %q: %w", channel, errSubscribed)
	}
	if c.claim != nil {
		return nil, fmt.Errorf("layer: subscribe to %q: %w", channel, errClaimed)
	}
	for {
		ev, ok := c.take(now)
		if !ok {
			break
		}
		deliver(layer.NewShared(ev))
	}
	sub := &subscription{deliver: deliver}
	c.sub = sub
	return func() {
		s.mu.Lock()
		if c.sub == sub {
			c.sub = nil
		}
		s.mu.Unlock()
	}, nil
}
