package redis

import (
	"context"
	"errors"
	"math"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/event"
)

// poller is the receive loop of one key; see Receive.
type poller struct {
	l     *Layer
	id    string // the key part of its channels (see nonLocal): its entry in Layer.pollers
	key   string
	sh    *shard // the shard the key's name hashes to
	fan   *fanIn // reads the key on every shard; nil: on sh alone
	local bool   // the key holds process-local channels, routed by name
	name  string // the channel, when not local

	// claim receives every message of a claimed key (Claim); claimed
	// stays set once it was, so that what is popped after the claim's
	// cancel goes back to the key.
	claim   *claim
	claimed bool

	mu      sync.Mutex
	inboxes map[string]*inbox // by full channel name
	waiting int               // waiters in all inboxes
	subs    int               // subscribed inboxes
	running bool
	popping bool          // the loop pops and dispatches: Receive must not pop past it
	wake    chan struct{} // signalled when a waiter arrives at a lingering loop
	lastErr error         // the failure the loop is backing off from, if any

	linger *time.Timer // owned by the loop; see stillWanted
	armed  bool        // linger is running

	// sweepAt is when keep next drops expired kept messages (clock
	// microseconds); see sweep.
	sweepAt int64
}

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

func (p *poller) run() {
	l := p.l
	defer l.wg.Done()
	if p.fan != nil {
		p.runFanIn()
		return
	}
	// The pop must not be cut short by a context: Redis would still pop
	// the message, and the reply carrying it would be lost. BlockTime
	// bounds it instead.
	ctx := context.Background()
	backoff := time.Duration(0)
	for p.stillWanted() {
		err := p.next(ctx)
		switch {
		case err == nil, errors.Is(err, goredis.Nil): // Nil: nothing arrived within BlockTime
		default:
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			p.failed(err, backoff)
			select {
			case <-time.After(backoff):
			case <-l.done:
			}
			continue
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

// next waits up to BlockTime for what comes to p's key and dispatches it.
// It returns goredis.Nil when nothing came.
func (p *poller) next(ctx context.Context) error {
	if p.local && !p.l.noMultiPop.Load() {
		err := p.popLocal(ctx)
		if !isUnknownCommand(err) {
			return err
		}
		p.l.noMultiPop.Store(true)
		p.l.log.Info("redis: the server has no BZMPOP (Redis before 7.0); receiving with BZPOPMIN and ZPOPMIN", "key", p.key)
	}
	member, at, err := p.pop(ctx, p.sh)
	if err != nil {
		return err
	}
	p.dispatch(ctx, member, at, p.sh)
	if p.local {
		p.popMore(ctx)
	}
	return nil
}

// stillWanted reports whether anyone waits. When nobody does, the loop
// lingers for BlockTime, so that a receiver calling again soon, as
// receive loops do, finds it running; then it ends, and forgets its key
// unless it keeps messages for process-local channels.
func (p *poller) stillWanted() bool {
	l := p.l
	var idleFrom time.Time
	for {
		inflight := p.fan != nil && p.fan.inflight > 0
		p.mu.Lock()
		wanted := p.waiting > 0 || p.subs > 0
		// Pops in flight may bring back a message that goes back to its
		// key, ahead of later ones: Receive must not pop past them.
		p.popping = wanted || inflight
		p.mu.Unlock()
		if wanted && !l.closed.Load() {
			return true
		}
		if inflight {
			// The loop ends only once every pop it started has
			// answered and its message has been dispatched.
			p.fan.settle(p)
			continue
		}
		if !l.closed.Load() {
			// The loop lingers between most messages. Its timer is left
			// running while the loop is busy again, and when it fires
			// early it is re-armed for what is left, so that lingering
			// costs no timer operation per message.
			if idleFrom.IsZero() {
				idleFrom = time.Now()
			}
			switch {
			case p.linger == nil:
				p.linger = time.NewTimer(l.cfg.BlockTime)
			case !p.armed:
				p.linger.Reset(l.cfg.BlockTime)
			}
			p.armed = true
			select {
			case <-p.wake:
				continue
			case <-l.done:
			case <-p.linger.C:
				p.armed = false
				if left := l.cfg.BlockTime - time.Since(idleFrom); left > 0 {
					p.linger.Reset(left)
					p.armed = true
					continue
				}
			}
		}
		l.mu.Lock()
		p.mu.Lock()
		if (p.waiting > 0 || p.subs > 0) && !l.closed.Load() {
			p.mu.Unlock()
			l.mu.Unlock()
			continue
		}
		if !l.closed.Load() {
			// Messages kept for process-local channels that nobody
			// receives from any more (their consumer ended while a
			// group send to it was on its way) would otherwise stay
			// for good: the loop waits on until the oldest expires.
			now := l.clock.now()
			if oldest := p.sweep(now); oldest != 0 {
				wait := max(time.Duration(oldest+l.expiryUs-now)*time.Microsecond, time.Millisecond)
				switch {
				case p.linger == nil:
					p.linger = time.NewTimer(wait)
				default:
					p.linger.Stop()
					p.linger.Reset(wait)
				}
				p.armed = true
				p.mu.Unlock()
				l.mu.Unlock()
				continue
			}
		}
		p.running, p.popping = false, false
		if len(p.inboxes) == 0 && l.pollers[p.id] == p {
			delete(l.pollers, p.id)
		}
		// Once running is false a Receive may start a new loop on p,
		// which takes the timer over, so it is settled before the lock
		// goes.
		if p.armed {
			p.linger.Stop()
			p.armed = false
		}
		p.mu.Unlock()
		l.mu.Unlock()
		return false
	}
}

// pop waits for the oldest message. A message that turns out to have
// expired costs one more round trip, which drops every expired message and
// takes the oldest live one if there is one; so expiry costs nothing while
// receivers keep up.
func (p *poller) pop(ctx context.Context, sh *shard) (member string, at int64, err error) {
	l := p.l
	z, err := sh.block.BZPopMin(ctx, l.cfg.BlockTime, p.key).Result()
	if err != nil {
		return "", 0, err
	}
	at = int64(math.Round(z.Score * 1e6))
	cutoff := l.clock.now() - l.expiryUs
	if at > cutoff {
		member, _ = z.Member.(string)
		return member, at, nil
	}
	res, err := popLiveScript.Run(ctx, sh.cmd, []string{p.key}, score(cutoff)).StringSlice()
	if err != nil || len(res) < 2 {
		if err == nil {
			err = goredis.Nil
		}
		return "", 0, err
	}
	sc, err := strconv.ParseFloat(res[1], 64)
	if err != nil {
		return "", 0, err
	}
	return res[0], int64(math.Round(sc * 1e6)), nil
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

// dispatch hands a message popped from sh to its receivers. A message
// for an ordinary channel whose receivers all gave up goes back to sh.
func (p *poller) dispatch(ctx context.Context, member string, at int64, sh *shard) {
	l := p.l
	ev, names, err := l.codec.decode(member)
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
		p.putBack(ctx, member, at, sh)
		return
	}
	if p.claimed {
		// A claimed key's messages are all the claim's; once it was
		// cancelled they go back for the next one.
		cl := p.claim
		if cl == nil {
			p.mu.Unlock()
			p.putBack(ctx, member, at, sh)
			return
		}
		var shared lazyShared
		for _, name := range names {
			cl.deliver(name, shared.get(ev))
		}
		p.mu.Unlock()
		return
	}
	defer p.mu.Unlock()
	if len(names) == 0 {
		l.log.Warn("redis: dropped a process-local message without a channel name", "key", p.key)
		return
	}
	var shared lazyShared
	for _, name := range names {
		ib := p.inboxes[name]
		if ib != nil && ib.sub != nil {
			ib.sub.deliver(shared.get(ev))
			continue
		}
		if ib != nil && len(ib.waiters) > 0 {
			p.handOver(ib, ev)
			continue
		}
		p.keep(name, ev, at)
	}
}

// handOver gives ev to the first waiter of ib. p.mu is held.
func (p *poller) handOver(ib *inbox, ev event.Event) {
	w := ib.waiters[0]
	// Shifting rather than reslicing keeps the backing array, so that a
	// channel received from in a loop appends its next waiter without
	// allocating; there are rarely more than a few waiters to move.
	n := copy(ib.waiters, ib.waiters[1:])
	ib.waiters[n] = nil
	ib.waiters = ib.waiters[:n]
	p.waiting--
	w.ev <- ev
}

// putBack returns a popped message nobody took to its key, with its old
// score, so that it keeps its place ahead of later messages. The loop does
// it before popping again, so this process's next receiver finds it first.
func (p *poller) putBack(ctx context.Context, member string, at int64, sh *shard) {
	p.l.putBack(ctx, sh, p.key, member, at)
}

// putBack adds member to key on sh with the score at, retrying while
// Redis is unavailable, until the layer has closed and the backoff has
// grown to its longest.
func (l *Layer) putBack(ctx context.Context, sh *shard, key, member string, at int64) {
	for backoff := minBackoff; ; backoff = min(2*backoff, maxBackoff) {
		err := sh.cmd.ZAdd(ctx, key, goredis.Z{Score: float64(at) / 1e6, Member: member}).Err()
		if err == nil {
			return
		}
		if !isOutage(err) || l.closed.Load() && backoff >= maxBackoff {
			l.log.Error("redis: lost a message while putting it back", "key", key, "err", err)
			return
		}
		time.Sleep(backoff)
	}
}
