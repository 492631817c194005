package redis

import (
	"errors"
	"strings"

	"github.com/switchboard-bots/switchboard/layer"
)

var _ layer.Claimer = (*Layer)(nil)

// errClaimed reports a second claim of one prefix.
var errClaimed = errors.New("redis: prefix already claimed")

// claim is the receiver of a claimed prefix's channels, compared by
// identity when it is cancelled.
type claim struct {
	deliver func(string, *layer.Shared)
}

// Claim makes deliver the receiver of the channels named prefix+"!"+name
// (see layer.Claimer): this process's receive loop pops the key that
// holds their messages, prefix+"!" under the layer's prefix, as
// channels_redis stores a process-local channel, and hands each message to
// deliver with its channel's name, the channels one group message names
// the same layer.Shared. A message the loop pops after cancel goes back
// to its key with its old score, for the next claim, in this process or
// another; the loop stops soon after.
//
// The prefix must not be one this process makes channels under
// (NewChannel), and its channels can be neither received from nor
// subscribed to here: they are the claim's.
func (l *Layer) Claim(prefix string, deliver func(string, *layer.Shared)) (func(), error) {
	if err := layer.ValidGroupName(prefix); err != nil {
		return nil, invalid(err)
	}
	if l.closed.Load() {
		return nil, ErrClosed
	}
	key := prefix + "!"
	if strings.HasSuffix(key, l.clientID+"!") {
		return nil, refuse("claim", key, errors.New("the prefix of this process's own channels"))
	}
	p := l.poller(key, true) // returns p locked
	defer p.mu.Unlock()
	if p.claim != nil {
		return nil, refuse("claim", key, errClaimed)
	}
	cl := &claim{deliver: deliver}
	p.claim, p.claimed = cl, true
	p.subs++
	p.wakeOrStart()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.claim != cl {
			return
		}
		p.claim = nil
		p.subs--
	}, nil
}

// unclaimed reports whether p's key was claimed and the claim cancelled:
// its loop pops no more than the one message it may be waiting for.
func (p *poller) unclaimed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.claimed && p.claim == nil
}
