package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// Send queues msg on channel in one round trip, or fails with an error
// wrapping ErrChannelFull.
func (l *Layer) Send(ctx context.Context, channel string, msg event.Event) error {
	if err := layer.ValidChannelName(channel); err != nil {
		return invalid(err)
	}
	if err := layer.ValidEvent(msg); err != nil {
		return refuse("send to", channel, err)
	}
	if l.closed.Load() {
		return ErrClosed
	}
	// The event is encoded into a pooled buffer and copied once, into the
	// member, rather than marshalled into a buffer of its own first.
	s := getScratch()
	n, body, err := s.encode(msg)
	if err != nil {
		putScratch(s)
		return refuse("send to", channel, err)
	}
	var names []string
	if strings.IndexByte(channel, '!') >= 0 {
		names = []string{channel}
	}
	member, err := l.codec.member(encoded{n: n, body: body}, names, false)
	putScratch(s)
	if err != nil {
		return refuse("send to", channel, err)
	}
	sh := l.shardFor(nonLocal(channel))
	key := l.keys.channel(channel)
	now := l.clock.now()
	capacity := l.keyCapacity(channel)
	tk := l.tallies.plan(key, sh, now, capacity, l.cfg.ExactCapacity)
	if tk.how != countAdd {
		err := l.add(ctx, sh, key, float64(now)/1e6, member, tk.how == addExpire)
		if tk.how == add || err != nil {
			// An add that failed may still have run.
			l.afterAdd(key, sh)
		}
		if err != nil {
			return failCtx(ctx, "send to", channel, err)
		}
		return nil
	}
	// The command is built in one slice, where Script.Run would build it
	// in three. Scores go as numbers, which go-redis formats into its
	// write buffer: float64(us)/1e6 is the double nearest the six-decimal
	// text score renders, so Redis stores the same score either way.
	cmd := goredis.NewCmd(ctx, "evalsha", deliverScript.sha, 1, key,
		float64(now)/1e6, float64(now-l.expiryUs)/1e6, l.ttlArg, member, l.capacityArg(capacity))
	cmd.SetFirstKeyPos(3)
	if err := sh.cmd.Process(ctx, once{cmd}); noScript(err) {
		// The server has not seen the script since it started: send it
		// in full, which also loads it.
		cmd = deliverScript.inFull(ctx, cmd)
		_ = sh.cmd.Process(ctx, once{cmd})
	}
	held, err := cmd.Int64()
	if err != nil {
		return failCtx(ctx, "send to", channel, err)
	}
	l.tallies.counted(key, tk, capacity, held)
	if held < 0 {
		return refuse("send to", channel, ErrChannelFull)
	}
	return nil
}

// add is a send within its channel's room: ZADD, pipelined with PEXPIRE
// when expire is set.
func (l *Layer) add(ctx context.Context, sh *shard, key string, score float64, member []byte, expire bool) error {
	zadd := goredis.NewIntCmd(ctx, "zadd", key, score, member)
	if !expire {
		return sh.cmd.Process(ctx, once{zadd})
	}
	_, err := sh.cmd.Pipelined(ctx, func(p goredis.Pipeliner) error {
		_ = p.Process(ctx, once{zadd})
		p.Do(ctx, "pexpire", key, l.ttlArg)
		return nil
	})
	return err
}

// capacityArg returns capacity as a script argument; the default one is
// rendered once, in New.
func (l *Layer) capacityArg(capacity int) any {
	if capacity == l.cfg.Capacity {
		return l.capacity
	}
	return strconv.Itoa(capacity)
}

// GroupAdd makes channel a member of group, or refreshes its membership,
// in one round trip.
func (l *Layer) GroupAdd(ctx context.Context, group, channel string) error {
	if err := l.checkMember(group, channel); err != nil {
		return err
	}
	key := l.keys.group(group)
	_, err := l.shardFor(group).cmd.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.ZAdd(ctx, key, goredis.Z{Score: float64(l.clock.now()) / 1e6, Member: channel})
		// Every member added before now lapses before this, so the whole
		// group may go then.
		p.PExpire(ctx, key, l.cfg.GroupExpiry)
		return nil
	})
	if err != nil {
		return failCtx(ctx, "add to group", group, err)
	}
	return nil
}

// GroupDiscard removes channel from group.
func (l *Layer) GroupDiscard(ctx context.Context, group, channel string) error {
	if err := l.checkMember(group, channel); err != nil {
		return err
	}
	if err := l.shardFor(group).cmd.ZRem(ctx, l.keys.group(group), channel).Err(); err != nil {
		return failCtx(ctx, "discard from group", group, err)
	}
	return nil
}

func (l *Layer) checkMember(group, channel string) error {
	if err := layer.ValidGroupName(group); err != nil {
		return invalid(err)
	}
	if err := layer.ValidChannelName(channel); err != nil {
		return invalid(err)
	}
	if l.closed.Load() {
		return ErrClosed
	}
	return nil
}

// localKeyScale is how many times a channel's capacity the key of a
// process's process-local channels holds. That key is shared by every
// channel of the process, thousands of them, and drained by one receive
// loop: with a channel's capacity it would refuse messages whenever the
// process fell a moment behind, although each of its channels holds a
// message or two. Each channel's own bound is kept by the receiving
// process, which holds at most a channel's capacity for it (see keep, and
// the consumer's backlog). channels_redis gives the key the capacity of one
// channel, so a Django process sending to this one still refuses at that.
const localKeyScale = 100

// keyCapacity is the capacity of channel's key: the channel's, or for a
// process-local channel, localKeyScale times it.
func (l *Layer) keyCapacity(channel string) int {
	c := l.cfg.CapacityFor(channel)
	if strings.IndexByte(channel, '!') >= 0 {
		c *= localKeyScale
	}
	return c
}

// GroupSend sends msg to every member of group, skipping those whose key is
// full; each skip is counted and logged (see WithSkipObserver). On a
// single server or Sentinel it is one round trip however large the group;
// with shards, Cluster or encryption it is one round trip to read the
// members and then one per shard (per cluster node) holding members, in
// parallel.
func (l *Layer) GroupSend(ctx context.Context, group string, msg event.Event) error {
	return l.groupSend(ctx, group, msg, false)
}

// GroupSendAll is GroupSend that sends to every member or to none: when a
// member's key is full it fails with a *layer.SkipError, which wraps
// layer.ErrChannelFull. All or nothing is decided in one script, so it is
// available on a single server or Sentinel without encryption; elsewhere
// it fails with an error wrapping errors.ErrUnsupported.
func (l *Layer) GroupSendAll(ctx context.Context, group string, msg event.Event) error {
	return l.groupSend(ctx, group, msg, true)
}

// QueueGroupSend queues msg for every member of group and returns once it
// is queued (see layer.QueuedGroupSender); done gets what GroupSend would
// have returned. On a single server or Sentinel without encryption the
// send goes in the next batch (see groupBatch), and the queue holds up to
// maxQueuedSends sends, beyond which QueueGroupSend waits while ctx
// allows; the send itself is bounded by the client's timeouts, not by
// ctx. Elsewhere it is GroupSend, made before QueueGroupSend returns.
func (l *Layer) QueueGroupSend(ctx context.Context, group string, msg event.Event, done func(error)) error {
	e, err := l.groupPrepare(group, msg)
	if err != nil {
		return err
	}
	if !l.scripted() {
		done(l.groupSendEncoded(ctx, group, e, false))
		return nil
	}
	return l.queueGroupSend(ctx, group, e, done)
}

// groupPrepare checks a group send and encodes its message.
func (l *Layer) groupPrepare(group string, msg event.Event) (encoded, error) {
	if err := layer.ValidGroupName(group); err != nil {
		return encoded{}, invalid(err)
	}
	if err := layer.ValidEvent(msg); err != nil {
		return encoded{}, refuse("send to group", group, err)
	}
	if l.closed.Load() {
		return encoded{}, ErrClosed
	}
	e, err := l.codec.marshal(msg)
	if err != nil {
		return encoded{}, refuse("send to group", group, err)
	}
	return e, nil
}

// scripted reports whether a group send is one script call, batched: on
// a single server without encryption.
func (l *Layer) scripted() bool {
	return len(l.shards) == 1 && !l.cluster && l.codec.crypt == nil
}

func (l *Layer) groupSend(ctx context.Context, group string, msg event.Event, all bool) error {
	e, err := l.groupPrepare(group, msg)
	if err != nil {
		return err
	}
	return l.groupSendEncoded(ctx, group, e, all)
}

func (l *Layer) groupSendEncoded(ctx context.Context, group string, e encoded, all bool) error {
	scripted := l.scripted()
	if all && !scripted {
		return fmt.Errorf("redis: send to group %q all or nothing: %w: needs a single server without encryption", group, errors.ErrUnsupported)
	}
	var members, skipped int
	var err error
	if scripted {
		members, skipped, err = l.groupSendScripted(ctx, group, e, all)
	} else {
		members, skipped, err = l.groupSendSpread(ctx, group, e)
	}
	return l.groupSent(ctx, group, all, members, skipped, err)
}

// groupSent accounts for a group send made, or failed with err, and
// returns its outcome: the skips it made are reported, or, all or
// nothing, returned as a *layer.SkipError.
func (l *Layer) groupSent(ctx context.Context, group string, all bool, members, skipped int, err error) error {
	// The group's channels hold more than their tallies know.
	l.tallies.gen.Add(1)
	if err != nil {
		return failCtx(ctx, "send to group", group, err)
	}
	if skipped > 0 {
		if all {
			return &layer.SkipError{Group: group, Full: skipped}
		}
		l.skips.Skipped(group, skipped, members)
	}
	return nil
}

// target is one key a group send writes: the members it serves, and the
// capacity of the first, as channels_redis decides it.
type target struct {
	key      string
	names    []string
	capacity int
}

// groupSendSpread reads the members from the group's shard, then writes
// each shard's keys with one script call per shard, all shards at once. It
// returns the member count and how many members it skipped.
func (l *Layer) groupSendSpread(ctx context.Context, group string, e encoded) (members, skipped int, err error) {
	gkey := l.keys.group(group)
	now := l.clock.now()
	var names *goredis.StringSliceCmd
	_, err = l.shardFor(group).cmd.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, gkey, "-inf", score(now-l.groupExpiryUs))
		names = p.ZRange(ctx, gkey, 0, -1)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	byShard := make([][]*target, len(l.shards))
	byKey := make(map[string]*target)
	for _, m := range names.Val() {
		key := l.keys.channel(m)
		t := byKey[key]
		if t == nil {
			t = &target{key: key, capacity: l.keyCapacity(m)}
			byKey[key] = t
			i := l.place(nonLocal(m), len(l.shards))
			byShard[i] = append(byShard[i], t)
		}
		t.names = append(t.names, m)
	}
	errs := make([]error, len(l.shards))
	skips := make([]int, len(l.shards))
	done := make(chan struct{}, len(l.shards))
	started := 0
	for i, targets := range byShard {
		if len(targets) == 0 {
			continue
		}
		started++
		go func() {
			skips[i], errs[i] = l.deliver(ctx, &l.shards[i], targets, e, now)
			done <- struct{}{}
		}()
	}
	for range started {
		<-done
	}
	for i, err := range errs {
		skipped += skips[i]
		if err != nil {
			return 0, 0, err
		}
	}
	return len(names.Val()), skipped, nil
}

// deliver writes one group message to targets, all on sh: one script
// call on a server, or in cluster mode one call per key, pipelined, which
// go-redis sends as one round trip per node. It returns how many members
// it skipped: those served by the keys that were full.
func (l *Layer) deliver(ctx context.Context, sh *shard, targets []*target, e encoded, now int64) (int, error) {
	fixed := []any{score(now), score(now - l.expiryUs), l.ttl, "0"}
	if !l.cluster {
		keys := make([]string, len(targets))
		args := append(make([]any, 0, len(fixed)+2*len(targets)), fixed...)
		for i, t := range targets {
			member, err := l.codec.member(e, t.names, true)
			if err != nil {
				return 0, err
			}
			keys[i] = t.key
			args = append(args, member, strconv.Itoa(t.capacity))
		}
		full, err := groupDeliverScript.run(ctx, sh.cmd, keys, args...).Int64Slice()
		if err != nil {
			return 0, err
		}
		skipped := 0
		for _, i := range full {
			if i >= 1 && int(i) <= len(targets) {
				skipped += len(targets[i-1].names)
			}
		}
		return skipped, nil
	}
	calls := make([]*goredis.Cmd, len(targets))
	for i, t := range targets {
		member, err := l.codec.member(e, t.names, true)
		if err != nil {
			return 0, err
		}
		calls[i] = groupDeliverScript.byHash(ctx, []string{t.key}, append(fixed, member, strconv.Itoa(t.capacity))...)
	}
	send := func(calls []*goredis.Cmd) {
		// Each call's outcome is read from the call itself.
		_, _ = sh.cmd.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, c := range calls {
				_ = p.Process(ctx, once{c})
			}
			return nil
		})
	}
	send(calls)
	// Nodes that lack the script, having restarted or joined since it was
	// last sent, refuse their calls; the other nodes ran theirs, so only
	// the refused calls are sent again, in full.
	var err error
	var again []int
	for i, c := range calls {
		switch cerr := c.Err(); {
		case noScript(cerr):
			calls[i] = groupDeliverScript.inFull(ctx, c)
			again = append(again, i)
		case cerr != nil && err == nil:
			err = cerr
		}
	}
	if len(again) > 0 {
		retry := make([]*goredis.Cmd, len(again))
		for j, i := range again {
			retry[j] = calls[i]
		}
		send(retry)
		for _, c := range retry {
			if cerr := c.Err(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}
	skipped := 0
	for i, c := range calls {
		if full, cerr := c.Int64Slice(); cerr == nil && len(full) > 0 {
			skipped += len(targets[i].names)
		}
	}
	return skipped, err
}
