package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/scope"
)

// Layer is what consumers need of a channel layer; layer.Layer and every
// backend provide it.
type Layer interface {
	Send(ctx context.Context, channel string, msg event.Event) error
	Receive(ctx context.Context, channel string) (event.Event, error)
	NewChannel(ctx context.Context, prefix string) (string, error)
	GroupAdd(ctx context.Context, group, channel string) error
	GroupDiscard(ctx context.Context, group, channel string) error
	GroupSend(ctx context.Context, group string, msg event.Event) error
}

// ErrNoLayer is returned by channel layer calls of an instance whose
// application was not given a layer with WithLayer.
var ErrNoLayer = errors.New("consumer: no channel layer configured")

type layerKey struct{}

// WithLayer returns middleware that makes l the channel layer of every
// consumer below it, the way Django Channels' CHANNEL_LAYERS setting does
// for a project. Its type converts to router.Middleware.
//
// A message that arrives on an instance's channel and that its consumer
// cannot handle (no handler for its type, or fields that do not decode
// into the handler's type) is dropped: the scope goes on, each drop
// reaches the DropObserver of ObserveDrops, and a warning naming the type,
// the channel and the error is logged (see WithLogger) at most once per
// type per DropWarnEvery, for all the consumers below this WithLayer
// together.
func WithLayer(l Layer, opts ...LayerOption) func(scope.Application) scope.Application {
	return scopeValue(layerKey{}, &withLayer{l: l, drops: newDrops(opts)})
}

// withLayer is the scope value of WithLayer.
type withLayer struct {
	l     Layer
	drops *drops
}

// LayerOf returns the channel layer given to the application of s by
// WithLayer, or nil.
func LayerOf(s *scope.Scope) Layer {
	if w, ok := s.Value(layerKey{}).(*withLayer); ok {
		return w.l
	}
	return nil
}

// channel is an instance's own layer channel and the groups it joined.
// Messages to the channel are posted to the instance's inbox, so they are
// handled in order with platform events. A layer that is a
// layer.Subscriber delivers them itself, from one receiver for the whole
// process, and the instance needs no goroutine of its own; with any other
// layer, a goroutine per instance receives them.
type channel struct {
	l      Layer
	drops  *drops
	disp   dispatcher
	name   string
	groups []string
	// conversation marks a conversation channel (Conversations): its
	// memberships outlive the instance.
	conversation bool
	cancel       context.CancelFunc
	done         chan struct{}

	// With a Subscriber: unsubscribe ends the deliveries, and what
	// arrives while the inbox is full waits in backlog, which a pump
	// goroutine, running only while it is not empty, posts in order.
	unsubscribe func()
	conn        scope.Conn
	try         scope.TryPoster
	scope       *scope.Scope
	log         *slog.Logger
	ctx         context.Context // ends with the channel, for the pump's Post
	mu          sync.Mutex
	backlog     []event.Event
	pumping     bool
	stopped     bool
	pumps       sync.WaitGroup
}

// Layer returns the instance's channel layer, or nil.
func (b *Base) Layer() Layer { return LayerOf(b.scope) }

// ChannelName returns the name of the instance's own channel on the layer,
// creating it on first use. From then on, messages sent to the channel
// reach the instance's handlers like platform events, until the scope ends.
// A chat conversation below WithConversations gets its conversation
// channel, named from the conversation, whose messages start its scope
// again once it ended (see Conversations).
func (b *Base) ChannelName(ctx context.Context) (string, error) {
	if b.ch != nil {
		return b.ch.name, nil
	}
	w, _ := b.scope.Value(layerKey{}).(*withLayer)
	if w == nil || w.l == nil {
		return "", ErrNoLayer
	}
	if w.drops.conv != nil {
		if name := w.drops.conv.Channel(b.scope); name != "" {
			// The process receiving the channel's prefix hands its
			// messages to the scope (Conversations): nothing to
			// subscribe here.
			if err := w.drops.conv.Keep(ctx, b.scope, name); err != nil {
				return "", fmt.Errorf("consumer: keep conversation of %s: %w", b.scope, err)
			}
			done := make(chan struct{})
			close(done)
			b.ch = &channel{l: w.l, drops: w.drops, disp: b.disp, name: name, conversation: true,
				cancel: func() {}, done: done}
			return name, nil
		}
	}
	name, err := w.l.NewChannel(ctx, "specific.")
	if err != nil {
		return "", fmt.Errorf("consumer: new channel for %s: %w", b.scope, err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	c := &channel{l: w.l, drops: w.drops, disp: b.disp, name: name, cancel: cancel, done: make(chan struct{}),
		conn: b.conn, scope: b.scope, log: LoggerOf(b.scope), ctx: rctx}
	if sub := layer.SubscriberOf(w.l); sub != nil {
		if try, ok := b.conn.(scope.TryPoster); ok {
			c.try = try
			unsubscribe, err := sub.Subscribe(name, c.deliver)
			if err != nil {
				cancel()
				return "", fmt.Errorf("consumer: subscribe to channel for %s: %w", b.scope, err)
			}
			c.unsubscribe = unsubscribe
			close(c.done)
			b.ch = c
			return name, nil
		}
	}
	b.ch = c
	go c.receive(rctx, b.conn, b.scope, c.log)
	return name, nil
}

// deliver is the channel's subscriber: it runs on the layer's receiver,
// must not block, and posts the message to the instance without waiting.
// While the inbox is full, messages wait in the backlog, in order; what
// the backlog has no room for is dropped, counted and logged.
func (c *channel) deliver(sh *layer.Shared) {
	ev, err := c.disp.accept(sh)
	if err != nil {
		c.drops.drop(c.log, c.scope, c.name, sh.Event(), err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	if len(c.backlog) == 0 {
		err := c.try.TryPost(ev)
		if err == nil || !errors.Is(err, scope.ErrInboxFull) {
			return // posted, or the scope ended: nobody to hand it to
		}
	}
	if len(c.backlog) >= c.drops.backlog {
		c.drops.drop(c.log, c.scope, c.name, ev, fmt.Errorf("%w: %d messages wait for room in the inbox", ErrBacklogFull, len(c.backlog)))
		return
	}
	c.backlog = append(c.backlog, ev)
	if !c.pumping {
		c.pumping = true
		c.pumps.Add(1)
		go c.pump()
	}
}

// pump posts the backlog to the instance, waiting for room, until the
// backlog is empty or the channel closes.
func (c *channel) pump() {
	defer c.pumps.Done()
	for {
		c.mu.Lock()
		if len(c.backlog) == 0 || c.stopped {
			c.pumping = false
			c.backlog = nil
			c.mu.Unlock()
			return
		}
		ev := c.backlog[0]
		c.mu.Unlock()
		if err := c.conn.Post(c.ctx, ev); err != nil {
			c.mu.Lock()
			c.pumping = false
			c.backlog = nil
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		c.backlog[0] = nil
		c.backlog = c.backlog[1:]
		c.mu.Unlock()
	}
}

// receive posts what arrives on the channel to the instance until ctx ends
// or the layer closes. What the instance cannot handle is dropped here,
// before it reaches the scope (see WithLayer).
func (c *channel) receive(ctx context.Context, conn scope.Conn, s *scope.Scope, log *slog.Logger) {
	defer close(c.done)
	_ = layer.Consume(ctx, c.l, c.name, func(msg event.Event) error {
		ev, err := c.disp.accept(layer.NewShared(msg))
		if err != nil {
			c.drops.drop(log, s, c.name, msg, err)
			return nil
		}
		if err := conn.Post(ctx, ev); err != nil {
			if !errors.Is(err, scope.ErrEnded) && ctx.Err() == nil {
				log.Error("consumer: layer message not delivered to its scope", "scope", s.String(), "channel", c.name, "event", ev.Type(), "err", err)
			}
			return layer.ErrStopConsuming
		}
		return nil
	}, func(err error, retryIn time.Duration) {
		// The channel lives as long as the scope: a layer that failed
		// (Redis away) is retried.
		log.Warn("consumer: layer receive failed; retrying", "scope", s.String(), "channel", c.name, "err", err, "retry_in", retryIn)
	})
}

// stop ends the deliveries to the instance: the subscription, or the
// receiving goroutine, and the pump.
func (c *channel) stop() {
	if c.unsubscribe != nil {
		c.unsubscribe()
	}
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.cancel()
	c.pumps.Wait()
	<-c.done
}

// GroupAdd adds the instance's channel to group (creating the channel if
// needed). The instance leaves its groups when its scope ends, unless its
// channel is a conversation channel (WithConversations): the conversation
// stays a member until GroupDiscard or the layer's group expiry.
func (b *Base) GroupAdd(ctx context.Context, group string) error {
	fresh := b.ch == nil
	name, err := b.ChannelName(ctx)
	if err != nil {
		return err
	}
	if b.ch.conversation && !fresh {
		// The facts last as long as the membership this refreshes.
		w, _ := b.scope.Value(layerKey{}).(*withLayer)
		if err := w.drops.conv.Keep(ctx, b.scope, name); err != nil {
			return fmt.Errorf("consumer: keep conversation of %s: %w", b.scope, err)
		}
	}
	if err := b.ch.l.GroupAdd(ctx, group, name); err != nil {
		return fmt.Errorf("consumer: join group %q: %w", group, err)
	}
	for _, g := range b.ch.groups {
		if g == group {
			return nil
		}
	}
	b.ch.groups = append(b.ch.groups, group)
	return nil
}

// GroupDiscard removes the instance's channel from group.
func (b *Base) GroupDiscard(ctx context.Context, group string) error {
	if b.ch == nil {
		return nil
	}
	for i, g := range b.ch.groups {
		if g == group {
			b.ch.groups = append(b.ch.groups[:i], b.ch.groups[i+1:]...)
			break
		}
	}
	if err := b.ch.l.GroupDiscard(ctx, group, b.ch.name); err != nil {
		return fmt.Errorf("consumer: leave group %q: %w", group, err)
	}
	return nil
}

// GroupSend sends ev to every channel in group.
func (b *Base) GroupSend(ctx context.Context, group string, ev event.Event) error {
	l := b.Layer()
	if l == nil {
		return ErrNoLayer
	}
	return l.GroupSend(ctx, group, ev)
}

// QueueGroupSend queues ev for every channel in group and returns without
// waiting for the send to be made, so that an instance relaying a stream
// of messages, as a chat room does, is not held to one layer round trip
// per message. Sends one instance queues are made in order, and before a
// GroupSend it makes later (see layer.QueuedGroupSender). It fails at once
// for an invalid group or event, a closed layer, or when ctx ends while
// the layer's queue is full; a send that fails later is dropped like an
// undeliverable layer message: counted by the DropObserver of
// ObserveDrops with reason DropSendFailed and logged at warn (see
// WithLayer). A layer that cannot queue sends makes the send before
// QueueGroupSend returns.
func (b *Base) QueueGroupSend(ctx context.Context, group string, ev event.Event) error {
	w, _ := b.scope.Value(layerKey{}).(*withLayer)
	if w == nil || w.l == nil {
		return ErrNoLayer
	}
	s, log := b.scope, LoggerOf(b.scope)
	return layer.QueueGroupSend(ctx, w.l, group, ev, func(err error) {
		if err != nil {
			w.drops.drop(log, s, group, ev, fmt.Errorf("%w: %w", ErrSendFailed, err))
		}
	})
}

// GroupSendAll sends ev to every channel in group or to none: when a
// member's channel is full it fails with a *layer.SkipError, which wraps
// layer.ErrChannelFull, where GroupSend would skip the member (and count
// and log the skip). A layer that cannot send all or nothing makes it
// fail with an error wrapping errors.ErrUnsupported.
func (b *Base) GroupSendAll(ctx context.Context, group string, ev event.Event) error {
	l := b.Layer()
	if l == nil {
		return ErrNoLayer
	}
	return layer.GroupSendAll(ctx, l, group, ev)
}

// SendTo sends ev to a named layer channel: a worker's, or another
// instance's ChannelName.
func (b *Base) SendTo(ctx context.Context, channel string, ev event.Event) error {
	l := b.Layer()
	if l == nil {
		return ErrNoLayer
	}
	return l.Send(ctx, channel, ev)
}

// closeChannel leaves every group and stops the receiving goroutine. It
// runs after the final event's handler, with time of its own: the scope may
// be ending because the process is shutting down.
func (b *Base) closeChannel(ctx context.Context) error {
	c := b.ch
	if c == nil {
		return nil
	}
	b.ch = nil
	c.stop()
	if c.conversation {
		return nil // the conversation stays a member of its groups
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var errs []error
	for _, g := range c.groups {
		if err := c.l.GroupDiscard(cctx, g, c.name); err != nil {
			errs = append(errs, fmt.Errorf("consumer: leave group %q: %w", g, err))
		}
	}
	return errors.Join(errs...)
}
