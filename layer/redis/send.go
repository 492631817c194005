package redis

import (
	"context"
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
	capacity := l.cfg.CapacityFor(channel)
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

// GroupSend sends msg to every member of group, skipping full ones. On a
// single server or Sentinel it is one round trip however large the group;
// with shards, Cluster or encryption it is one round trip to read the
// members and then one per shard (per cluster node) holding members, in
// parallel.
func (l *Layer) GroupSend(ctx context.Context, group string, msg event.Event) error {
	if err := layer.ValidGroupName(group); err != nil {
		return invalid(err)
	}
	if err := layer.ValidEvent(msg); err != nil {
		return refuse("send to group", group, err)
	}
	if l.closed.Load() {
		return ErrClosed
	}
	e, err := l.codec.marshal(msg)
	if err != nil {
		return refuse("send to group", group, err)
	}
	if len(l.shards) == 1 && !l.cluster && l.codec.crypt == nil {
		err = l.groupSendScripted(ctx, group, e)
	} else {
		err = l.groupSendSpread(ctx, group, e)
	}
	// The group's channels hold more than their tallies know.
	l.tallies.gen.Add(1)
	if err != nil {
		return failCtx(ctx, "send to group", group, err)
	}
	return nil
}

// groupSendScripted is the whole group send as one script, for a single
// server: the script reads the members and writes their keys.
func (l *Layer) groupSendScripted(ctx context.Context, group string, e encoded) error {
	head := make([]byte, randomLen, randomLen+5)
	putRandom(head)
	head = appendMapHeader(head, e.n+1)
	body := appendStr(append(make([]byte, 0, len(e.body)+len(channelField)+1), e.body...), channelField)
	now := l.clock.now()
	args := append([]any{
		score(now), score(now - l.expiryUs), score(now - l.groupExpiryUs), l.ttl,
		l.cfg.Prefix, strconv.Itoa(l.cfg.Capacity), head, body,
	}, l.capArgs...)
	res, err := groupSendScript.run(ctx, l.shards[0].cmd, []string{l.keys.group(group)}, args...).Int64Slice()
	if err == nil && len(res) == 2 && res[1] > 0 {
		l.log.Debug("redis: group send skipped full channels", "group", group, "members", res[0], "full", res[1])
	}
	return err
}

// target is one key a group send writes: the members it serves, and the
// capacity of the first, as channels_redis decides it.
type target struct {
	key      string
	names    []string
	capacity int
}

// groupSendSpread reads the members from the group's shard, then writes
// each shard's keys with one script call per shard, all shards at once.
func (l *Layer) groupSendSpread(ctx context.Context, group string, e encoded) error {
	gkey := l.keys.group(group)
	now := l.clock.now()
	var members *goredis.StringSliceCmd
	_, err := l.shardFor(group).cmd.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, gkey, "-inf", score(now-l.groupExpiryUs))
		members = p.ZRange(ctx, gkey, 0, -1)
		return nil
	})
	if err != nil {
		return err
	}
	byShard := make([][]*target, len(l.shards))
	byKey := make(map[string]*target)
	for _, m := range members.Val() {
		key := l.keys.channel(m)
		t := byKey[key]
		if t == nil {
			t = &target{key: key, capacity: l.cfg.CapacityFor(m)}
			byKey[key] = t
			i := l.place(nonLocal(m), len(l.shards))
			byShard[i] = append(byShard[i], t)
		}
		t.names = append(t.names, m)
	}
	errs := make([]error, len(l.shards))
	done := make(chan struct{}, len(l.shards))
	started := 0
	for i, targets := range byShard {
		if len(targets) == 0 {
			continue
		}
		started++
		go func() {
			errs[i] = l.deliver(ctx, &l.shards[i], targets, e, now)
			done <- struct{}{}
		}()
	}
	for range started {
		<-done
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// deliver writes one group message to targets, all on sh: one script
// call on a server, or in cluster mode one call per key, pipelined, which
// go-redis sends as one round trip per node.
func (l *Layer) deliver(ctx context.Context, sh *shard, targets []*target, e encoded, now int64) error {
	fixed := []any{score(now), score(now - l.expiryUs), l.ttl}
	if !l.cluster {
		keys := make([]string, len(targets))
		args := append(make([]any, 0, len(fixed)+2*len(targets)), fixed...)
		for i, t := range targets {
			member, err := l.codec.member(e, t.names, true)
			if err != nil {
				return err
			}
			keys[i] = t.key
			args = append(args, member, strconv.Itoa(t.capacity))
		}
		return deliverScript.run(ctx, sh.cmd, keys, args...).Err()
	}
	calls := make([]*goredis.Cmd, len(targets))
	for i, t := range targets {
		member, err := l.codec.member(e, t.names, true)
		if err != nil {
			return err
		}
		calls[i] = deliverScript.byHash(ctx, []string{t.key}, append(fixed, member, strconv.Itoa(t.capacity))...)
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
	var again []*goredis.Cmd
	for _, c := range calls {
		switch cerr := c.Err(); {
		case noScript(cerr):
			again = append(again, deliverScript.inFull(ctx, c))
		case cerr != nil && err == nil:
			err = cerr
		}
	}
	if len(again) > 0 {
		send(again)
		for _, c := range again {
			if cerr := c.Err(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}
	return err
}
