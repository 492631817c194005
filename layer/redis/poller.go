package redis

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/event"
)

// poller is the receive loop of one key; see Receive.
type poller struct {
	l     *Layer
	key   string
	sh    *shard
	local bool   // the key holds process-local channels, routed by name
	name  string // the channel, when not local

	mu      sync.Mutex
	inboxes map[string]*inbox // by full channel name
	waiting int               // waiters in all inboxes
	running bool
	lastErr error // the failure the loop is backing off from, if any
}

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

func (p *poller) run() {
	l := p.l
	defer l.wg.Done()
	// The pop must not be cut short by a context: Redis would still pop
	// the message, and the reply carrying it would be lost. BlockTime
	// bounds it instead.
	ctx := context.Background()
	backoff := time.Duration(0)
	for p.stillWanted() {
		member, at, err := p.pop(ctx)
		switch {
		case errors.Is(err, goredis.Nil): // nothing arrived within BlockTime
		case err != nil:
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			p.failed(err, backoff)
			select {
			case <-time.After(backoff):
			case <-l.done:
			}
			continue
		default:
			p.dispatch(ctx, member, at)
		}
		if backoff > 0 {
			backoff = 0
			p.mu.Lock()
			p.lastErr = nil
			p.mu.Unlock()
			l.log.Info("redis: receiving again", "key", p.key)
		}
	}
}

// stillWanted reports whether anyone waits; if not, the loop ends, and
// forgets its key unless it keeps messages for process-local channels.
func (p *poller) stillWanted() bool {
	l := p.l
	l.mu.Lock()
	defer l.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waiting > 0 && !l.closed.Load() {
		return true
	}
	p.running = false
	if len(p.inboxes) == 0 && l.pollers[p.key] == p {
		delete(l.pollers, p.key)
	}
	return false
}

// pop drops expired messages and pops the oldest one, in one round trip.
func (p *poller) pop(ctx context.Context) (member string, at int64, err error) {
	l := p.l
	cutoff := score(l.clock.now() - l.expiryUs)
	var zpop *goredis.ZWithKeyCmd
	_, err = p.sh.block.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		pipe.ZRemRangeByScore(ctx, p.key, "-inf", cutoff)
		zpop = pipe.BZPopMin(ctx, l.cfg.BlockTime, p.key)
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	z := zpop.Val()
	s, _ := z.Member.(string)
	return s, int64(math.Round(z.Score * 1e6)), nil
}

func (p *poller) failed(err error, backoff time.Duration) {
	err = fail("receive from key", p.key, err)
	p.mu.Lock()
	first := p.lastErr == nil
	p.lastErr = err
	p.mu.Unlock()
	if first {
		p.l.log.Warn("redis: receive failed; retrying with backoff", "key", p.key, "err", err)
	} else {
		p.l.log.Debug("redis: receive failed again", "key", p.key, "err", err, "backoff", backoff)
	}
}

// dispatch hands a popped message to its receivers. A message for an
// ordinary channel whose receivers all gave up goes back to Redis.
func (p *poller) dispatch(ctx context.Context, member string, at int64) {
	l := p.l
	ev, names, err := l.codec.decode([]byte(member))
	if err != nil {
		l.log.Warn("redis: dropped a message that does not decode", "key", p.key, "err", err)
		return
	}
	p.mu.Lock()
	if !p.local {
		if ib := p.inboxes[p.name]; ib != nil && len(ib.waiters) > 0 {
			p.handOver(ib, ev)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		p.putBack(ctx, member, at)
		return
	}
	defer p.mu.Unlock()
	if len(names) == 0 {
		l.log.Warn("redis: dropped a process-local message without a channel name", "key", p.key)
		return
	}
	for _, name := range names {
		if ib := p.inboxes[name]; ib != nil && len(ib.waiters) > 0 {
			p.handOver(ib, ev)
			continue
		}
		p.keep(name, ev, at)
	}
}

// handOver gives ev to the first waiter of ib. p.mu is held.
func (p *poller) handOver(ib *inbox, ev event.Event) {
	w := ib.waiters[0]
	ib.waiters[0] = nil
	ib.waiters = ib.waiters[1:]
	p.waiting--
	w.ev <- ev
}

// putBack returns a popped message nobody took to its key, with its old
// score, so that it keeps its place ahead of later messages. The loop does
// it before popping again, so this process's next receiver finds it first.
func (p *poller) putBack(ctx context.Context, member string, at int64) {
	l := p.l
	for backoff := minBackoff; ; backoff = min(2*backoff, maxBackoff) {
		err := p.sh.cmd.ZAdd(ctx, p.key, goredis.Z{Score: float64(at) / 1e6, Member: member}).Err()
		if err == nil {
			return
		}
		if !isOutage(err) || l.closed.Load() && backoff >= maxBackoff {
			l.log.Error("redis: lost a message while putting it back", "key", p.key, "err", err)
			return
		}
		time.Sleep(backoff)
	}
}
