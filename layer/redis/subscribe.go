package redis

import (
	"context"
	"errors"
	"math"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// errSubscribed reports a second subscriber for one channel.
var errSubscribed = errors.New("redis: channel already has a subscriber")

// subscription is a channel's subscriber, compared by identity when it is
// cancelled.
type subscription struct {
	deliver func(*layer.Shared)
}

// Subscribe makes deliver the receiver of channel, a process-local channel
// of this process (see layer.Subscriber). The receive loop of the
// process's key, which serves every process-local channel of the process,
// calls deliver for each message, handing the channels a group message
// names the same layer.Shared: the message is decoded once per process,
// and no goroutine runs per channel.
func (l *Layer) Subscribe(channel string, deliver func(*layer.Shared)) (func(), error) {
	if err := layer.ValidChannelName(channel); err != nil {
		return nil, invalid(err)
	}
	if l.closed.Load() {
		return nil, ErrClosed
	}
	if strings.IndexByte(channel, '!') < 0 {
		return nil, refuse("subscribe to", channel, errors.New("only process-local channels take subscribers"))
	}
	if !strings.HasSuffix(nonLocal(channel), l.clientID+"!") {
		return nil, refuse("subscribe to", channel, ErrForeignChannel)
	}
	p := l.poller(channel, true) // returns p locked
	defer p.mu.Unlock()
	ib := p.inboxes[channel]
	if ib == nil {
		ib = &inbox{}
		p.inboxes[channel] = ib
	}
	if ib.sub != nil {
		return nil, refuse("subscribe to", channel, errSubscribed)
	}
	for {
		ev := p.take(ib)
		if ev == nil {
			break
		}
		deliver(layer.NewShared(ev))
	}
	sub := &subscription{deliver: deliver}
	ib.sub = sub
	p.subs++
	p.wakeOrStart()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if ib.sub != sub {
			return
		}
		ib.sub = nil
		p.subs--
		p.tidy(channel, ib)
	}, nil
}

// popLocal waits for the messages of a process-local key and dispatches
// them, popBatch at most a round trip, with BZMPOP: a blocking pop that
// brings back every message waiting, where BZPOPMIN brings one and a
// ZPOPMIN must follow for the rest. A group send reaches the processes in
// a group together, several of them when sends were batched, so this
// saves the receiver a round trip per wake-up, and the messages after the
// first of a wake-up that round trip's wait. Expired messages are dropped,
// as receivers would drop them. It returns goredis.Nil when nothing
// arrived within BlockTime, and an error Redis answered with, which may
// say it has no BZMPOP (isUnknownCommand).
func (p *poller) popLocal(ctx context.Context) error {
	l := p.l
	_, zs, err := p.sh.block.BZMPop(ctx, l.cfg.BlockTime, "min", popBatch, p.key).Result()
	if err != nil {
		return err
	}
	p.dispatchAll(ctx, zs)
	if len(zs) == popBatch {
		p.popMore(ctx)
	}
	return nil
}

// dispatchAll dispatches the messages zs popped from p's key in order,
// but those that have expired.
func (p *poller) dispatchAll(ctx context.Context, zs []goredis.Z) {
	cutoff := p.l.clock.now() - p.l.expiryUs
	for _, z := range zs {
		at := int64(math.Round(z.Score * 1e6))
		member, _ := z.Member.(string)
		if at <= cutoff || member == "" {
			continue // expired: receivers drop it anyway
		}
		p.dispatch(ctx, member, at, p.sh)
	}
}

// isUnknownCommand reports whether Redis refused a command it does not
// know.
func isUnknownCommand(err error) bool {
	var re goredis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "ERR unknown command")
}

// popBatch is how many messages a receive loop of process-local channels
// pops at once (popLocal, popMore): so the key of a busy process drains
// at Redis' speed, not a round trip per message.
const popBatch = 1024

// popMore pops and dispatches what waits in a process-local key, popBatch
// messages a round trip, until the key is empty or the layer closes. A
// failure ends it: the blocking pop that follows reports it.
func (p *poller) popMore(ctx context.Context) {
	l := p.l
	for !l.closed.Load() && !p.unclaimed() {
		cmd := goredis.NewZSliceCmd(ctx, "zpopmin", p.key, popBatch)
		if err := p.sh.cmd.Process(ctx, once{cmd}); err != nil {
			return
		}
		zs := cmd.Val()
		p.dispatchAll(ctx, zs)
		if len(zs) < popBatch {
			return
		}
	}
}

// lazyShared is the layer.Shared of one message, made when a subscribed
// channel first needs it.
type lazyShared struct{ s *layer.Shared }

func (z *lazyShared) get(ev event.Event) *layer.Shared {
	if z.s == nil {
		z.s = layer.NewShared(ev)
	}
	return z.s
}
