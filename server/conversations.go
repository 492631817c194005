package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/cluster"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/scope"
)

// Conversation channels (consumer.Conversations): a chat conversation's
// layer channel is named from its adapter and key, in its partition,
// "conv.<p>!<adapter>.<key>", and the process serving the partition
// receives it: it claims the prefix "conv.<p>" on the layer
// (layer.Claimer) and hands each message to the conversation's scope,
// starting the scope from the facts kept when the conversation first used
// its channel or joined a group, for as long as a membership lasts. So a
// room's Telegram member hears the room after its process restarted, or
// after its conversation moved to another process, without speaking
// first.
//
// Without the durable intake there is one partition, 0, received by every
// process on the layer (with several processes, a message may start the
// conversation in another process than the one that serves it, as
// platform traffic may). With it, partitions are the intake's, and a
// process receives those it owns: the owner starts claiming a partition's
// prefix when it takes the partition and stops when it gives it up, so
// that what arrives meanwhile waits in Redis for the next owner.
//
// WebSocket and HTTP scopes, worker scopes, scopes whose adapter value
// cannot be kept, and with the intake the conversations of adapters it
// does not journal (they stay with the process that holds their
// connection) keep process channels.

// Drop reasons of conversation channel messages, beside the consumers'
// (switchboard_layer_messages_dropped_total).
const (
	// dropNoConversation: no facts are kept for the channel's
	// conversation, which has no live scope.
	dropNoConversation = "no_conversation"
	// dropNoAdapter: the channel names an adapter this process does not
	// run, or not a conversation at all.
	dropNoAdapter = "no_adapter"
	// dropNotServing: the adapter does not serve (it is stopping), or
	// the conversation's scope could not take the message.
	dropNotServing = "not_serving"
)

// convBacklog bounds the messages that wait, per conversation, for its
// scope to start or for room in its inbox.
const convBacklog = consumer.DefaultBacklog

// conversations is the server's consumer.Conversations and the receiver
// of the conversation channels it hands out.
type conversations struct {
	s     *Server
	store factStore
	ttl   time.Duration // the layer's group expiry
	parts int           // the intake's partitions, or 1 without it
	log   *slog.Logger
	drops func(typ, reason string)

	mu      sync.Mutex
	pending map[string]*pendingConv // by channel
	claims  map[int]*claimed        // by partition
	stopped bool
	ctx     context.Context // ends with stop, for the pumps
	cancel  context.CancelFunc
	pumps   sync.WaitGroup

	warnMu sync.Mutex
	warned map[string]time.Time // by drop reason
	types  map[string]bool      // the message types drops were counted by
}

var _ consumer.Conversations = (*conversations)(nil)

// pendingConv is what waits for one conversation's scope, in order.
type pendingConv struct {
	h       *adapters.Host
	channel string
	key     string
	q       []layer.Received
}

// newConversations returns the server's conversation channels on cfg's
// layer l, and a layer that closes the Redis client of their facts after
// l; or nil and l when the layer cannot claim a prefix.
func newConversations(s *Server, cfg *Config, l layer.Layer) (*conversations, layer.Layer, error) {
	if layer.ClaimerOf(l) == nil {
		return nil, l, nil
	}
	c := &conversations{s: s, ttl: cfg.Layer.Config.WithDefaults().GroupExpiry, parts: 1, log: s.log,
		drops: s.ops.metrics.LayerMessageDropped, pending: map[string]*pendingConv{}, claims: map[int]*claimed{},
		warned: map[string]time.Time{}, types: map[string]bool{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if cfg.Layer.Intake.Enabled {
		c.parts = cmp0(cfg.Layer.Intake.Partitions, cluster.DefaultPartitions)
	}
	if cfg.Layer.Backend != "redis" {
		c.store = &memoryFacts{m: map[string]keptFacts{}}
		return c, l, nil
	}
	rc, prefix, err := redisClient(cfg, 0)
	if err != nil {
		return nil, l, err
	}
	c.store = redisFacts{c: rc, prefix: prefix + ":conv:"}
	return c, closingLayer{Layer: l, c: rc}, nil
}

func cmp0(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Channel implements consumer.Conversations.
func (c *conversations) Channel(s *scope.Scope) string {
	switch s.Type {
	case "websocket", "http", "channel":
		return ""
	}
	if !c.serves(s.Adapter) {
		return ""
	}
	if _, err := cluster.MarshalScope(s); err != nil {
		return "" // cannot be started again from kept facts
	}
	name, err := consumer.ConversationChannel(cluster.Partition(s.Adapter, s.Key, c.parts), s.Adapter, s.Key)
	if err != nil {
		c.log.Debug("conversation keeps a process channel", "scope", s.String(), "err", err)
		return ""
	}
	return name
}

// serves reports whether the conversations of adapter get conversation
// channels: its scopes outlive their connection, and with the intake the
// intake journals them, so that their owner is the partition's.
func (c *conversations) serves(adapter string) bool {
	h, _ := c.s.host(adapter)
	if h == nil {
		return false
	}
	a := h.Adapter()
	if sc, ok := a.(adapters.ScopeConfigurer); ok && sc.ScopeConfig(scope.Config{}).NoEvict {
		return false
	}
	if c.s.intake != nil {
		if _, ok := a.(adapters.InboundDecoder); !ok {
			return false
		}
	}
	return true
}

// Keep implements consumer.Conversations: the facts live as long as a
// membership.
func (c *conversations) Keep(ctx context.Context, s *scope.Scope, channel string) error {
	facts, err := cluster.MarshalScope(s)
	if err != nil {
		return err
	}
	return c.store.Keep(ctx, channel, facts, c.ttl)
}

// claim starts receiving partition p's conversation channels.
func (c *conversations) claim(p int) {
	// The layer calls deliver, which takes c.mu, under its own locks,
	// which Claim takes too: c.mu is not held across Claim.
	r := &claimed{}
	c.mu.Lock()
	if c.stopped || c.claims[p] != nil {
		c.mu.Unlock()
		return
	}
	c.claims[p] = r
	c.mu.Unlock()
	prefix := fmt.Sprintf("%s%d", consumer.ConversationPrefix, p)
	cancel, err := layer.ClaimerOf(c.s.layer).Claim(prefix, c.deliver)
	c.mu.Lock()
	if err != nil {
		if c.claims[p] == r {
			delete(c.claims, p)
		}
		c.mu.Unlock()
		c.log.Error("conversation channels of a partition not received", "partition", p, "err", err)
		return
	}
	if c.claims[p] != r || r.cancelled {
		// Given up, or stopped, while the claim was being made.
		c.mu.Unlock()
		cancel()
		return
	}
	r.cancel = cancel
	c.mu.Unlock()
	c.log.Debug("receiving conversation channels", "prefix", prefix)
}

// claimed is a partition's claim, made or being made.
type claimed struct {
	cancel    func() // nil while the claim is being made
	cancelled bool   // unclaimed while being made: claim cancels it
}

// unclaim stops receiving partition p's conversation channels: what
// arrives for them from now on waits in the layer for the next claim.
func (c *conversations) unclaim(p int) {
	c.mu.Lock()
	r := c.claims[p]
	delete(c.claims, p)
	var cancel func()
	if r != nil {
		r.cancelled = true
		cancel = r.cancel
	}
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// stop stops receiving every partition, lets the pumps hand what they
// hold to the conversations until ctx ends, and then ends them: what they
// still held is dropped, counted and logged.
func (c *conversations) stop(ctx context.Context) {
	c.mu.Lock()
	c.stopped = true
	var cancels []func()
	for _, r := range c.claims {
		r.cancelled = true
		if r.cancel != nil {
			cancels = append(cancels, r.cancel)
		}
	}
	c.claims = map[int]*claimed{}
	c.mu.Unlock()
	for _, cancel := range cancels {
		cancel()
	}
	waitUntil(ctx, c.pumps.Wait)
	c.cancel()
	c.pumps.Wait()
}

// receiveConversations starts receiving the conversation channels once
// the adapters that serve conversations are ready (or ctx ends): without
// the intake, partition 0's; with it, those the intake owns, as it takes
// and gives them up. Calling it again, once a reload started an adapter,
// changes nothing already received.
func (s *Server) receiveConversations(ctx context.Context) {
	c := s.conv
	if c == nil {
		return
	}
	if !s.servesConversations() {
		return // a worker, or only connections: nothing to receive
	}
	if s.intake != nil {
		s.intake.OnOwned(func(p int, owned bool) {
			if owned {
				c.claim(p)
			} else {
				c.unclaim(p)
			}
		})
		return
	}
	s.mu.Lock()
	var ready []<-chan struct{}
	for _, h := range s.adapters {
		ready = append(ready, h.Ready())
	}
	s.mu.Unlock()
	go func() {
		for _, r := range ready {
			select {
			case <-r:
			case <-ctx.Done():
				return
			case <-s.stopRetries:
				return
			}
		}
		c.claim(0)
	}()
}

// servesConversations reports whether an adapter of s serves
// conversations that get conversation channels.
func (s *Server) servesConversations() bool {
	s.mu.Lock()
	hosts := slices.Clone(s.adapters)
	s.mu.Unlock()
	for _, h := range hosts {
		if !s.conv.serves(h.Name()) {
			continue
		}
		for _, p := range h.ServedProtocols() {
			switch p {
			case "websocket", "http", "channel":
			default:
				return true
			}
		}
	}
	return false
}

// stopConversations stops receiving the conversation channels.
func (s *Server) stopConversations(ctx context.Context) {
	if s.conv != nil {
		s.conv.stop(ctx)
	}
}

// deliver is the claims' receiver: it runs on the layer's receiver and
// must not block. A message for a live scope with room in its inbox is
// posted at once; any other waits, in order, for a pump goroutine that
// starts the scope or waits for room.
func (c *conversations) deliver(channel string, sh *layer.Shared) {
	ev := layer.Received{Channel: channel, Message: sh}
	_, adapter, key, ok := consumer.ParseConversationChannel(channel)
	if !ok {
		c.drop(ev, dropNoAdapter, errors.New("not a conversation channel"))
		return
	}
	h, _ := c.s.host(adapter)
	if h == nil {
		c.drop(ev, dropNoAdapter, fmt.Errorf("adapter %q does not run here", adapter))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pending[channel]; p != nil {
		if len(p.q) >= convBacklog {
			c.drop(ev, consumer.DropBacklogFull, fmt.Errorf("%w: %d messages wait for the conversation", consumer.ErrBacklogFull, len(p.q)))
			return
		}
		p.q = append(p.q, ev)
		return
	}
	err := h.TryPost(key, ev)
	switch {
	case err == nil:
		return
	case !errors.Is(err, scope.ErrEnded) && !errors.Is(err, scope.ErrInboxFull):
		c.drop(ev, dropNotServing, err)
		return
	case c.stopped:
		c.drop(ev, dropNotServing, errors.New("stopping"))
		return
	}
	p := &pendingConv{h: h, channel: channel, key: key, q: []layer.Received{ev}}
	c.pending[channel] = p
	c.pumps.Go(func() { c.pump(p) })
}

// pump hands p's messages to the conversation in order, starting its
// scope from the kept facts when it has none, until none wait.
func (c *conversations) pump(p *pendingConv) {
	var newScope func() *scope.Scope
	loaded := false
	for {
		c.mu.Lock()
		if len(p.q) == 0 || c.ctx.Err() != nil {
			left := p.q
			delete(c.pending, p.channel)
			c.mu.Unlock()
			for _, ev := range left {
				c.drop(ev, dropNotServing, errors.New("stopping"))
			}
			return
		}
		ev := p.q[0]
		c.mu.Unlock()
		if !loaded {
			loaded = true
			newScope = c.load(p)
		}
		var err error
		if newScope != nil {
			err = p.h.DeliverHere(c.ctx, p.key, ev, newScope)
		} else if err = p.h.TryPost(p.key, ev); errors.Is(err, scope.ErrEnded) {
			c.drop(ev, dropNoConversation, fmt.Errorf("no facts kept for conversation %q of %s: %w", p.key, p.h.Name(), err))
			err = nil
		}
		if err != nil {
			c.drop(ev, dropNotServing, err)
		}
		c.mu.Lock()
		p.q[0] = layer.Received{}
		p.q = p.q[1:]
		c.mu.Unlock()
	}
}

// load returns what starts p's conversation from its kept facts, or nil
// when none are kept.
func (c *conversations) load(p *pendingConv) func() *scope.Scope {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	facts, err := c.store.Load(ctx, p.channel)
	if err != nil {
		c.log.Warn("conversation facts not loaded", "channel", p.channel, "err", err)
		return nil
	}
	if facts == nil {
		return nil
	}
	tmpl, err := cluster.UnmarshalScope(facts, p.key)
	if err != nil {
		c.log.Warn("conversation facts unreadable", "channel", p.channel, "err", err)
		return nil
	}
	return func() *scope.Scope {
		s := *tmpl
		return &s
	}
}

// dropWarnEvery bounds the warnings about dropped conversation channel
// messages: one per reason per interval; every drop is counted.
const dropWarnEvery = time.Minute

// maxDropTypes bounds the message types the drops are counted by, as the
// consumers' are: a foreign sender chooses them.
const maxDropTypes = 256

func (c *conversations) drop(ev layer.Received, reason string, err error) {
	typ := ev.Type()
	now := time.Now()
	c.warnMu.Lock()
	key := typ
	if len(key) > 100 || !utf8.ValidString(key) || !c.types[key] && len(c.types) >= maxDropTypes {
		key = "other"
	} else {
		c.types[key] = true
	}
	last := c.warned[reason]
	warn := last.IsZero() || now.Sub(last) >= dropWarnEvery
	if warn {
		c.warned[reason] = now
	}
	c.warnMu.Unlock()
	if c.drops != nil {
		c.drops(key, reason)
	}
	if warn {
		c.log.Warn("conversation channel message dropped", "channel", ev.Channel, "type", typ, "reason", reason, "err", err)
	}
}
