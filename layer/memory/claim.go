package memory

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/switchboard-bots/switchboard/layer"
)

var _ layer.Claimer = (*Layer)(nil)

// errClaimed reports a second claim of one prefix, or a subscriber for a
// channel of a claimed prefix.
var errClaimed = errors.New("layer: prefix already claimed")

// claim is the receiver of a claimed prefix's channels, compared by
// identity when it is cancelled.
type claim struct {
	prefix  string // with its "!"
	deliver func(string, *layer.Shared)
}

// Claim makes deliver the receiver of the channels named prefix+"!"+name
// (see layer.Claimer). Messages queued on them are delivered at once;
// later ones by their sender, on its goroutine, as to a subscriber.
func (l *Layer) Claim(prefix string, deliver func(string, *layer.Shared)) (func(), error) {
	if err := layer.ValidGroupName(prefix); err != nil {
		return nil, fmt.Errorf("layer: claim: %w", err)
	}
	if l.closed.Load() {
		return nil, layer.ErrClosed
	}
	cl := &claim{prefix: prefix + "!", deliver: deliver}
	l.claimMu.Lock()
	old := l.claims.Load()
	if old != nil && (*old)[cl.prefix] != nil {
		l.claimMu.Unlock()
		return nil, fmt.Errorf("layer: claim %q: %w", prefix, errClaimed)
	}
	next := map[string]*claim{cl.prefix: cl}
	if old != nil {
		maps.Copy(next, *old)
	}
	l.claims.Store(&next)
	// Channels made from here on find the claim when they are created;
	// those that exist already are given it here, under their shard's
	// lock, with what they hold.
	l.claimMu.Unlock()
	now := l.now()
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for name, c := range s.channels {
			if !strings.HasPrefix(name, cl.prefix) || c.sub != nil {
				continue
			}
			c.claim = cl
			for {
				ev, ok := c.take(now)
				if !ok {
					break
				}
				deliver(name, layer.NewShared(ev))
			}
		}
		s.mu.Unlock()
	}
	return func() { l.unclaim(cl) }, nil
}

// unclaim ends cl: once it returns no send reaches cl's deliver.
func (l *Layer) unclaim(cl *claim) {
	l.claimMu.Lock()
	old := l.claims.Load()
	if old == nil || (*old)[cl.prefix] != cl {
		l.claimMu.Unlock()
		return
	}
	next := maps.Clone(*old)
	delete(next, cl.prefix)
	l.claims.Store(&next)
	l.claimMu.Unlock()
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for _, c := range s.channels {
			if c.claim == cl {
				c.claim = nil
			}
		}
		s.mu.Unlock()
	}
}

// claimOf returns the claim of the prefix of channel, or nil.
func (l *Layer) claimOf(channel string) *claim {
	m := l.claims.Load()
	if m == nil || len(*m) == 0 {
		return nil
	}
	i := strings.IndexByte(channel, '!')
	if i < 0 {
		return nil
	}
	return (*m)[channel[:i+1]]
}

// create adds the channel name to s, which is locked, with the claim of
// its prefix if there is one.
func (l *Layer) create(s *shard, name string, now int64) *channel {
	c := s.create(name, l.cfg.CapacityFor(name), now)
	c.claim = l.claimOf(name)
	return c
}
