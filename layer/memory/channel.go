package memory

import (
	"sync"
	"unsafe"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

const (
	// sweepVisits is how many channels or memberships the sweep inspects
	// each time something new is created. A channel is reclaimed on the
	// second visit that finds it idle, so the sweep must visit more than
	// two items per creation to keep up with a stream of short-lived
	// channels; four keeps the idle share at about half.
	sweepVisits = 4
	// maxSpare bounds the deleted channels a shard keeps for reuse.
	maxSpare = 32
	// maxSpareBuf bounds the queue a reused channel may bring along, so
	// that one burst does not pin a large buffer for good.
	maxSpareBuf = 64
)

// entry is a queued message. The deadline is in the layer's clock, in
// nanoseconds since the layer was made.
type entry struct {
	ev       event.Event
	deadline int64
}

// channel is a bounded FIFO queue with the receivers waiting on it. The
// fields a send touches come first, to share a cache line.
type channel struct {
	buf      []entry // ring, grown on demand up to capacity
	head, n  int
	capacity int
	// oldest is buf[head].deadline, kept here so that a send checks for
	// expired messages without touching the far end of the ring.
	oldest      int64
	first, last *waiter // receivers in the order they started waiting
	// used records activity since the sweep last looked, so that a
	// channel that is merely empty between two messages survives.
	used bool
	// gen changes whenever the channel is deleted, so that a group
	// member's cached pointer can tell it no longer names this channel.
	// 64 bits, because a recycled channel may be reused billions of times.
	gen uint64

	name string
	pos  int // index in shard.list

	sub   *subscription // nil unless subscribed; see Layer.Subscribe
	claim *claim        // the claim of the channel's prefix, if any; see Layer.Claim
}

// subscription is a channel's subscriber, compared by identity when it is
// cancelled.
type subscription struct {
	deliver func(*layer.Shared)
}

// lazyShared is the layer.Shared of one send, made when a subscribed
// channel first needs it.
type lazyShared struct{ s *layer.Shared }

func (l *lazyShared) get(ev event.Event) *layer.Shared {
	if l.s == nil {
		l.s = layer.NewShared(ev)
	}
	return l.s
}

// waiter is a blocked receiver. A sender that queues a message takes the
// first waiter off the channel and signals it; the receiver then takes a
// message under the shard lock itself, so a receiver that gives up in the
// meantime leaves the message queued rather than losing it.
type waiter struct {
	ready      chan struct{} // capacity 1: signalling never blocks
	ch         *channel      // the channel whose queue holds it, or nil
	prev, next *waiter
}

func (c *channel) dropExpired(now int64) {
	for c.n > 0 && c.oldest <= now {
		c.buf[c.head] = entry{}
		c.advance()
	}
}

func (c *channel) advance() {
	c.head++
	if c.head == len(c.buf) {
		c.head = 0
	}
	c.n--
	if c.n > 0 {
		c.oldest = c.buf[c.head].deadline
	}
}

// offer queues ev unless the channel is full and wakes one waiter; a
// subscribed channel hands it to its subscriber instead, through the
// Shared of the send, which sh makes once for all the channels of a group.
func (c *channel) offer(ev event.Event, sh *lazyShared, now, deadline int64) bool {
	if c.sub != nil {
		c.used = true
		c.sub.deliver(sh.get(ev))
		return true
	}
	if c.claim != nil {
		c.used = true
		c.claim.deliver(c.name, sh.get(ev))
		return true
	}
	c.dropExpired(now)
	if c.n >= c.capacity {
		return false
	}
	if c.n == len(c.buf) {
		c.grow()
	}
	i := c.head + c.n
	if i >= len(c.buf) {
		i -= len(c.buf)
	}
	c.buf[i] = entry{ev, deadline}
	if c.n == 0 {
		c.oldest = deadline
	}
	c.n++
	c.used = true
	if w := c.first; w != nil {
		c.dequeue(w)
		select {
		case w.ready <- struct{}{}:
		default:
		}
	}
	return true
}

func (c *channel) take(now int64) (event.Event, bool) {
	c.dropExpired(now)
	if c.n == 0 {
		return nil, false
	}
	ev := c.buf[c.head].ev
	// Cleared so that the queue does not keep a received event alive.
	c.buf[c.head] = entry{}
	c.advance()
	c.used = true
	return ev, true
}

// grow enlarges a full ring. Queues start small because most channels hold
// a message or two; a channel that is read slowly grows to its capacity.
func (c *channel) grow() {
	size := min(max(2*len(c.buf), 4), c.capacity)
	buf := make([]entry, size)
	k := copy(buf, c.buf[c.head:])
	copy(buf[k:], c.buf[:c.head])
	c.buf, c.head = buf, 0
}

func (c *channel) clear() {
	for c.n > 0 {
		c.buf[c.head] = entry{}
		c.advance()
	}
	c.head = 0
}

func (c *channel) enqueue(w *waiter) {
	w.ch, w.prev, w.next = c, c.last, nil
	if c.last == nil {
		c.first = w
	} else {
		c.last.next = w
	}
	c.last = w
}

func (c *channel) dequeue(w *waiter) {
	if w.prev == nil {
		c.first = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		c.last = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.ch, w.prev, w.next = nil, nil, nil
}

type shardState struct {
	mu       sync.Mutex
	channels map[string]*channel
	list     []*channel // the channels in the map, in sweep order
	cursor   int        // next index in list the sweep inspects
	spare    []*channel // deleted channels kept for reuse
}

// shard is padded to a multiple of a cache line pair so that the locks of
// neighbouring shards do not share a line.
type shard struct {
	shardState
	_ [128 - unsafe.Sizeof(shardState{})%128]byte
}

// create adds an empty channel. It first advances the sweep, which is what
// bounds the number of idle channels to a multiple of the busy ones.
func (s *shard) create(name string, capacity int, now int64) *channel {
	s.sweep(now, sweepVisits)
	var c *channel
	if n := len(s.spare); n > 0 {
		c = s.spare[n-1]
		s.spare[n-1] = nil
		s.spare = s.spare[:n-1]
	} else {
		c = new(channel)
	}
	c.name, c.capacity, c.used, c.pos = name, capacity, true, len(s.list)
	s.list = append(s.list, c)
	if s.channels == nil {
		s.channels = make(map[string]*channel)
	}
	s.channels[name] = c
	return c
}

// sweep inspects up to visits channels round-robin, dropping their expired
// messages and deleting those that stayed idle since the previous visit.
// Channels with messages or waiting receivers are never deleted.
func (s *shard) sweep(now int64, visits int) {
	for range visits {
		if len(s.list) == 0 {
			return
		}
		if s.cursor >= len(s.list) {
			s.cursor = 0
		}
		c := s.list[s.cursor]
		c.dropExpired(now)
		switch {
		case c.n > 0 || c.first != nil || c.sub != nil:
			s.cursor++
		case c.used:
			c.used = false
			s.cursor++
		default:
			s.delete(c) // the last channel moves to cursor, which is inspected next
		}
	}
}

func (s *shard) delete(c *channel) {
	delete(s.channels, c.name)
	last := len(s.list) - 1
	s.list[c.pos] = s.list[last]
	s.list[c.pos].pos = c.pos
	s.list[last] = nil
	s.list = s.list[:last]
	c.clear()
	c.name = ""
	c.gen++
	if len(s.spare) < maxSpare && len(c.buf) <= maxSpareBuf {
		s.spare = append(s.spare, c)
	} else {
		// A stale group member may still point here; it must not pin
		// the queue.
		c.buf = nil
	}
}

// flush empties every queue and deletes the channels nobody waits on.
func (s *shard) flush() {
	for i := len(s.list) - 1; i >= 0; i-- {
		c := s.list[i]
		c.clear()
		if c.first == nil && c.sub == nil {
			s.delete(c)
		}
	}
}
