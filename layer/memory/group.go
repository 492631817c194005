package memory

import (
	"context"
	"fmt"
	"sync"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// smallGroup is the size up to which GroupSend locks a shard per member;
// for larger groups sorting the members by shard first, so that each shard
// is locked once, is cheaper.
const smallGroup = 16

// groups holds every group. One lock covers them all: group operations are
// rare next to channel traffic, and a GroupSend must see a stable member
// list while it delivers.
type groups struct {
	mu     sync.Mutex
	byName map[string]*group
	list   []*group // the groups in byName, in sweep order
	cursor int      // next index in list the sweep inspects
	order  []int32  // scratch for GroupSend: member indexes by shard
}

type group struct {
	name    string
	pos     int // index in groups.list
	members []member
	index   map[string]int32 // channel name to index in members
	cursor  int              // next member the sweep inspects
}

type member struct {
	channel string
	expires int64
	// ch caches the member's channel while its gen matches, sparing
	// GroupSend a map lookup per member. Both are guarded by the shard
	// lock and the groups lock together.
	ch    *channel
	gen   uint64
	shard uint8 // cached so that GroupSend does not hash every name
}

func (gs *groups) reset() {
	gs.byName, gs.list, gs.order, gs.cursor = nil, nil, nil, 0
}

func (gs *groups) create(name string) *group {
	g := &group{name: name, pos: len(gs.list), index: make(map[string]int32)}
	gs.list = append(gs.list, g)
	if gs.byName == nil {
		gs.byName = make(map[string]*group)
	}
	gs.byName[name] = g
	return g
}

func (gs *groups) delete(g *group) {
	delete(gs.byName, g.name)
	last := len(gs.list) - 1
	gs.list[g.pos] = gs.list[last]
	gs.list[g.pos].pos = g.pos
	gs.list[last] = nil
	gs.list = gs.list[:last]
}

// sweep inspects up to visits groups round-robin, each for a few expired
// members, and deletes the groups it leaves empty. It runs when a group is
// created, so groups that nobody sends to or discards from cannot pile up.
func (gs *groups) sweep(now int64, visits int) {
	for range visits {
		if len(gs.list) == 0 {
			return
		}
		if gs.cursor >= len(gs.list) {
			gs.cursor = 0
		}
		g := gs.list[gs.cursor]
		g.sweep(now, sweepVisits)
		if len(g.members) == 0 {
			gs.delete(g)
		} else {
			gs.cursor++
		}
	}
}

// sweep drops up to visits expired members, starting where it last
// stopped. It runs when a member joins, so a group whose members leave
// without GroupDiscard stays proportional to its live members.
func (g *group) sweep(now int64, visits int) {
	for range visits {
		if len(g.members) == 0 {
			return
		}
		if g.cursor >= len(g.members) {
			g.cursor = 0
		}
		if g.members[g.cursor].expires <= now {
			g.remove(g.cursor)
		} else {
			g.cursor++
		}
	}
}

func (g *group) remove(i int) {
	delete(g.index, g.members[i].channel)
	last := len(g.members) - 1
	if i != last {
		g.members[i] = g.members[last]
		g.index[g.members[i].channel] = int32(i)
	}
	g.members[last] = member{}
	g.members = g.members[:last]
}

// lockMembership checks the names of a membership change and locks the
// groups; the caller unlocks them.
func (l *Layer) lockMembership(group, channel string) (*groups, error) {
	if err := layer.ValidGroupName(group); err != nil {
		return nil, err
	}
	if err := layer.ValidChannelName(channel); err != nil {
		return nil, err
	}
	gs := &l.groups
	gs.mu.Lock()
	if l.closed.Load() {
		gs.mu.Unlock()
		return nil, layer.ErrClosed
	}
	return gs, nil
}

// GroupAdd makes channel a member of group until the group expiry passes,
// or refreshes its membership.
func (l *Layer) GroupAdd(_ context.Context, group, channel string) error {
	gs, err := l.lockMembership(group, channel)
	if err != nil {
		return err
	}
	defer gs.mu.Unlock()
	now := l.now()
	g := gs.byName[group]
	if g == nil {
		gs.sweep(now, sweepVisits)
		g = gs.create(group)
	}
	expires := after(now, l.groupExpiry)
	if i, ok := g.index[channel]; ok {
		g.members[i].expires = expires
		return nil
	}
	g.sweep(now, sweepVisits)
	g.index[channel] = int32(len(g.members))
	g.members = append(g.members, member{channel: channel, expires: expires, shard: uint8(l.shardIndex(channel))})
	return nil
}

// GroupDiscard removes channel from group.
func (l *Layer) GroupDiscard(_ context.Context, group, channel string) error {
	gs, err := l.lockMembership(group, channel)
	if err != nil {
		return err
	}
	defer gs.mu.Unlock()
	g := gs.byName[group]
	if g == nil {
		return nil
	}
	if i, ok := g.index[channel]; ok {
		g.remove(int(i))
		if len(g.members) == 0 {
			gs.delete(g)
		}
	}
	return nil
}

// GroupSend queues msg on the channel of every unexpired member of group,
// skipping members whose channel is full; each skip is counted and logged
// (see WithLogger and WithSkipObserver). Every member receives the same
// msg value. The cost is linear in the number of members, with no
// allocation per member once their channels exist.
func (l *Layer) GroupSend(_ context.Context, group string, msg event.Event) error {
	return l.groupSend(group, msg, false)
}

// GroupSendAll is GroupSend that sends to every member or to none: when a
// member's channel is full it fails with a *layer.SkipError, which wraps
// layer.ErrChannelFull. It locks every shard at once, so it costs more
// than GroupSend in a busy process.
func (l *Layer) GroupSendAll(_ context.Context, group string, msg event.Event) error {
	return l.groupSend(group, msg, true)
}

func (l *Layer) groupSend(group string, msg event.Event, all bool) error {
	if err := layer.ValidGroupName(group); err != nil {
		return err
	}
	if err := layer.ValidEvent(msg); err != nil {
		return fmt.Errorf("layer: send to group %q: %w", group, err)
	}
	gs := &l.groups
	gs.mu.Lock()
	defer gs.mu.Unlock()
	if l.closed.Load() {
		return layer.ErrClosed
	}
	g := gs.byName[group]
	if g == nil {
		return nil
	}
	now := l.now()
	for i := 0; i < len(g.members); {
		if g.members[i].expires <= now {
			g.remove(i)
		} else {
			i++
		}
	}
	if len(g.members) == 0 {
		gs.delete(g)
		return nil
	}
	deadline := after(now, l.expiry)
	sh := &lazyShared{}
	if all {
		return l.sendAll(g, msg, sh, now, deadline)
	}
	full := 0
	if len(g.members) <= smallGroup {
		for i := range g.members {
			m := &g.members[i]
			s := &l.shards[m.shard]
			s.mu.Lock()
			if !l.deliver(s, m, msg, sh, now, deadline) {
				full++
			}
			s.mu.Unlock()
		}
		l.skips.Skipped(group, full, len(g.members))
		return nil
	}

	// Counting sort of member indexes by shard: ends[s] becomes the end
	// of shard s's run in order, and the previous entry its start.
	var ends [numShards]int32
	for i := range g.members {
		ends[g.members[i].shard]++
	}
	var sum int32
	for s, n := range ends {
		ends[s] = sum
		sum += n
	}
	if cap(gs.order) < len(g.members) {
		gs.order = make([]int32, len(g.members))
	}
	order := gs.order[:len(g.members)]
	for i := range g.members {
		s := g.members[i].shard
		order[ends[s]] = int32(i)
		ends[s]++
	}
	var start int32
	for si, end := range ends {
		if start == end {
			continue
		}
		s := &l.shards[si]
		s.mu.Lock()
		for _, i := range order[start:end] {
			if !l.deliver(s, &g.members[i], msg, sh, now, deadline) {
				full++
			}
		}
		s.mu.Unlock()
		start = end
	}
	l.skips.Skipped(group, full, len(g.members))
	return nil
}

// sendAll delivers msg to every member of g, or, when a member's channel
// is full, to none. Every shard is locked, in order, so that no channel
// fills between the check and the delivery.
func (l *Layer) sendAll(g *group, msg event.Event, sh *lazyShared, now, deadline int64) error {
	for i := range l.shards {
		l.shards[i].mu.Lock()
	}
	defer func() {
		for i := range l.shards {
			l.shards[i].mu.Unlock()
		}
	}()
	full := 0
	for i := range g.members {
		m := &g.members[i]
		if c := l.shards[m.shard].channels[m.channel]; c != nil && c.sub == nil && c.claim == nil {
			c.dropExpired(now)
			if c.n >= c.capacity {
				full++
			}
		}
	}
	if full > 0 {
		return &layer.SkipError{Group: g.name, Full: full}
	}
	for i := range g.members {
		m := &g.members[i]
		l.deliver(&l.shards[m.shard], m, msg, sh, now, deadline)
	}
	return nil
}

// deliver queues msg on m's channel unless it is full, and reports
// whether it did; s must be locked.
func (l *Layer) deliver(s *shard, m *member, msg event.Event, sh *lazyShared, now, deadline int64) bool {
	c := m.ch
	if c == nil || c.gen != m.gen {
		c = s.channels[m.channel]
		if c == nil {
			c = l.create(s, m.channel, now)
		}
		m.ch, m.gen = c, c.gen
	}
	return c.offer(msg, sh, now, deadline)
}
