package room

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// A room's web members in one process share a hub: one channel of the
// process in the room's group, rather than one per member, whose
// messages the layer hands to the hub on its own receiver. The hub
// renders each message's line once, frames it once, and a goroutine of the
// hub writes the frame to each member's socket (websocket.TrySendAll),
// without waking the member's goroutine: a message reaching a thousand
// members of a process costs one decoding, one frame, one goroutine
// hand-off and a write system call each, and the lines that queued while
// the writer was busy go to each member in one write. Order holds because the layer delivers a
// channel's messages one at a time, in the order sent, the hub writes them
// in that order, and TrySend queues a frame behind whatever the member's
// connection already has queued.

// hubs are a room bot's hubs, by layer and room.
type hubs struct {
	mu    sync.Mutex
	m     map[hubKey]*hub
	drops consumer.DropObserver // nil: drops are only logged
}

// hubKey names a hub by the layer backend that delivers to it, which is
// comparable (a pointer) where the Layer a middleware wraps it in may
// not be, and by its room.
type hubKey struct {
	sub  layer.Subscriber
	room string
}

// hub is the process's member of one room's group on one layer, for the
// room's web members in the process.
type hub struct {
	key     hubKey
	l       consumer.Layer // the layer the members use, for the group calls
	channel string         // the hub's channel: a process-local channel in the room's group
	cancel  func()         // ends the layer's deliveries to the hub
	refs    int            // members joined or joining; guarded by hubs.mu
	seq     int            // the last member number given out; guarded by hubs.mu

	mu      sync.Mutex
	members []*Web // those that were welcomed: they hear the room

	// The lines the layer delivered and that are not written yet, which a
	// goroutine writes while there are any (see deliver).
	qmu      sync.Mutex
	queue    []line
	writing  bool
	dropped  int       // lines dropped since the last warning
	warnedAt time.Time // of the last warning
	log      *slog.Logger
	now      func() time.Time
	drops    consumer.DropObserver // nil: none
}

// maxHubLines bounds the lines waiting for a hub's writer. The layer's
// receiver hands lines over without waiting, and the writer makes a write
// per member for each, so a room busier than the processors can write to
// would otherwise queue lines without end; past the bound they are
// dropped and a warning says how many, at most once per dropWarnEvery.
const (
	maxHubLines   = 10_000
	dropWarnEvery = 10 * time.Second
)

// line is a room.message on its way to the members: its frame, and the
// member who sent it, who does not hear it.
type line struct {
	frame  *wsa.Broadcast
	sender string
}

// leaveTimeout bounds the group discard of a hub whose last member left.
const leaveTimeout = 5 * time.Second

// join finds or makes the hub of room on w's layer and counts w in it,
// returning the hub and w's name among the room's members, unique on the
// layer. A new hub joins the room's group; an existing one refreshes its
// membership, as each member's own channel did. It returns a nil hub
// when the layer cannot deliver to a hub (it is not a layer.Subscriber)
// or w's connection cannot be written to without its goroutine (it is
// not the WebSocket adapter's): w then joins with a channel of its own.
func (hs *hubs) join(ctx context.Context, w *Web) (*hub, string, error) {
	l := w.Layer()
	sub := layer.SubscriberOf(l)
	if l == nil || sub == nil || !wsa.CanTrySend(w.Scope()) {
		return nil, "", nil
	}
	key := hubKey{sub: sub, room: w.room}
	hs.mu.Lock()
	h := hs.m[key]
	fresh := h == nil
	if fresh {
		// Made under the lock, so that members joining meanwhile find
		// it in the group: one layer round trip per room and process.
		var err error
		if h, err = hs.open(ctx, key, l, consumer.LoggerOf(w.Scope())); err != nil {
			hs.mu.Unlock()
			return nil, "", err
		}
		if hs.m == nil {
			hs.m = make(map[hubKey]*hub)
		}
		hs.m[key] = h
	}
	h.refs++
	h.seq++
	id := h.channel + "#" + strconv.Itoa(h.seq)
	hs.mu.Unlock()
	if !fresh {
		if err := h.l.GroupAdd(ctx, Group(key.room), h.channel); err != nil {
			hs.leave(h, nil)
			return nil, "", fmt.Errorf("room: join group %q: %w", Group(key.room), err)
		}
	}
	return h, id, nil
}

// open makes the hub of key: its channel, subscribed, in the group.
func (hs *hubs) open(ctx context.Context, key hubKey, l consumer.Layer, log *slog.Logger) (*hub, error) {
	name, err := l.NewChannel(ctx, "specific.")
	if err != nil {
		return nil, fmt.Errorf("room: new channel for room %q: %w", key.room, err)
	}
	h := &hub{key: key, l: l, channel: name, log: log, now: time.Now, drops: hs.drops}
	if h.cancel, err = key.sub.Subscribe(name, h.deliver); err != nil {
		return nil, fmt.Errorf("room: subscribe to channel for room %q: %w", key.room, err)
	}
	if err := l.GroupAdd(ctx, Group(key.room), name); err != nil {
		h.cancel()
		return nil, fmt.Errorf("room: join group %q: %w", Group(key.room), err)
	}
	return h, nil
}

// welcome sends w its welcome and makes it hear the room, under the
// hub's lock, so that no line of the room reaches w before the welcome.
func (h *hub) welcome(w *Web, text string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := wsa.TrySend(w.Scope(), wsa.NewBroadcast(text)); err != nil {
		return err
	}
	h.members = append(h.members, w)
	return nil
}

// leave takes w (nil: a member that was never welcomed) out of h. The
// last member to leave closes the hub: its subscription ends and its
// channel leaves the group.
func (hs *hubs) leave(h *hub, w *Web) {
	if w != nil {
		h.mu.Lock()
		for i, m := range h.members {
			if m == w {
				last := len(h.members) - 1
				h.members[i] = h.members[last]
				h.members[last] = nil
				h.members = h.members[:last]
				break
			}
		}
		h.mu.Unlock()
	}
	hs.mu.Lock()
	h.refs--
	closing := h.refs == 0
	if closing {
		delete(hs.m, h.key)
	}
	hs.mu.Unlock()
	if !closing {
		return
	}
	h.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	// A failure leaves the channel in the group until the layer's group
	// expiry; messages sent to it meanwhile are kept for nobody and
	// expire too: say so.
	if err := h.l.GroupDiscard(ctx, Group(h.key.room), h.channel); err != nil {
		h.log.Warn("room: the hub could not leave its room's group; it stays a member until the group expiry",
			"room", h.key.room, "channel", h.channel, "err", err)
	}
}

// messageKey names the hub's conversion of a layer message into Message.
type messageKey struct{}

func decodeMessage(ev event.Event) (event.Event, error) { return event.Decode[Message](ev) }

// deliver is the hub's subscriber: it runs on the layer's receiver and
// must not block. A room.message, rendered and framed once, is queued for
// the hub's writer, which writes it to every member but its sender; the
// receiver goes on to the next message meanwhile, and the writers of
// different rooms run in parallel. Past maxHubLines waiting, a line is
// dropped and the drops are logged. Anything else is handed to the
// members' instances, which drop it, counted and logged, as they would a
// message of their own channel they cannot handle.
func (h *hub) deliver(sh *layer.Shared) {
	if sh.Event().Type() != (Message{}).Type() {
		h.handOver(sh)
		return
	}
	ev, err := sh.Convert(messageKey{}, decodeMessage)
	if err != nil {
		h.handOver(sh)
		return
	}
	m := ev.(Message)
	h.qmu.Lock()
	defer h.qmu.Unlock()
	if len(h.queue) >= maxHubLines {
		if h.drops != nil {
			h.drops.LayerMessageDropped(m.Type(), consumer.DropBacklogFull)
		}
		h.dropped++
		if t := h.now(); t.Sub(h.warnedAt) >= dropWarnEvery {
			h.log.Warn("room: the hub's writer is behind; dropped lines", "room", h.key.room, "channel", h.channel,
				"dropped", h.dropped, "queued", len(h.queue))
			h.dropped, h.warnedAt = 0, t
		}
		return
	}
	h.queue = append(h.queue, line{frame: wsa.NewBroadcast(m.Line()), sender: m.Sender})
	if !h.writing {
		h.writing = true
		go h.write()
	}
}

// write writes the queued lines to the members, in order, until none is
// left: a quiet room holds no goroutine.
func (h *hub) write() {
	var (
		batch       []line
		frames, own []*wsa.Broadcast
	)
	for {
		h.qmu.Lock()
		if len(h.queue) == 0 {
			h.writing = false
			h.queue = nil
			h.qmu.Unlock()
			return
		}
		batch, h.queue = h.queue, batch[:0]
		h.qmu.Unlock()
		// Lines that queued while the writer was busy go to a member
		// together, in one write (TrySendAll), but for the member's own.
		frames = frames[:0]
		for _, l := range batch {
			frames = append(frames, l.frame)
		}
		h.mu.Lock()
		for _, w := range h.members {
			// A member that cannot take them is disconnected by TrySend
			// (its client reads too slowly) or has gone; its scope ends
			// either way, and it leaves.
			_ = wsa.TrySendAll(w.Scope(), framesFor(w, batch, frames, &own)...)
		}
		h.mu.Unlock()
		clear(batch)
		clear(frames)
	}
}

// framesFor returns the frames of batch that w is to hear: all of them
// (frames), or, when w sent some, the others, in own.
func framesFor(w *Web, batch []line, frames []*wsa.Broadcast, own *[]*wsa.Broadcast) []*wsa.Broadcast {
	for i, l := range batch {
		if l.sender != w.self {
			continue
		}
		*own = append((*own)[:0], frames[:i]...)
		for _, l := range batch[i+1:] {
			if l.sender != w.self {
				*own = append(*own, l.frame)
			}
		}
		return *own
	}
	return frames
}

// handOver posts a message the hub does not relay to each member's
// instance, on a goroutine of its own, since the posts may wait for room.
func (h *hub) handOver(sh *layer.Shared) {
	h.mu.Lock()
	members := append([]*Web(nil), h.members...)
	h.mu.Unlock()
	if len(members) == 0 {
		return
	}
	r := layer.Received{Channel: h.channel, Message: sh}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
		defer cancel()
		for _, w := range members {
			// A member that has gone is no longer there to drop it.
			_ = w.Post(ctx, r)
		}
	}()
}
