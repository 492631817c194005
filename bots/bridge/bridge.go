package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

const defaultSendWait = 30 * time.Second

// Message is what a bridge's web members receive: "bridge.message".
type Message struct {
	Bridge   string `msgpack:"bridge"`
	Protocol string `msgpack:"protocol"`
	From     string `msgpack:"from"`
	Text     string `msgpack:"text"`
	// Sender is the sending web member's channel, so that it does not
	// hear itself.
	Sender string `msgpack:"sender,omitempty"`
}

// Type implements event.Event.
func (Message) Type() string { return "bridge.message" }

// Line is how m shows in another channel: "[slack] ada: hello".
func (m Message) Line() string { return fmt.Sprintf("[%s] %s: %s", m.Protocol, m.From, m.Text) }

// Group is the layer group of a bridge's web members.
func Group(bridge string) string { return "bridge." + bridge }

// New returns the bridge bot for cfg, or the errors of cfg. WebSocket
// scopes get a web member, every other protocol a chat member.
func New(cfg Config) (scope.Application, error) {
	l, err := cfg.links()
	if err != nil {
		return nil, err
	}
	r := &relay{links: l, wait: cfg.SendWait}
	if r.wait == 0 {
		r.wait = defaultSendWait
	}
	web := consumer.New(func() *webMember { return &webMember{relay: r} },
		consumer.On((*webMember).Connect), consumer.On((*webMember).Receive), consumer.On((*webMember).Show))
	chat := consumer.New(func() *chatMember { return &chatMember{relay: r} },
		consumer.OnMessage((*chatMember).Message))
	return router.ByProtocol(router.Routes{"websocket": web}, router.Fallback(chat)), nil
}

// relay is what every member shares: the links and how to reach a
// channel.
type relay struct {
	links *links
	wait  time.Duration
}

// from relays m, said in channel src, to every other channel of src's
// bridges. sender is a web member's own channel ("" from a chat). Every
// destination is tried; the error joins those that failed.
func (r *relay) from(ctx context.Context, b *consumer.Base, src Channel, m Message, sender string) error {
	var errs []error
	done := map[Channel]bool{src: true}
	for _, name := range r.links.of[src] {
		m.Bridge = name
		web := false
		for _, dst := range r.links.bridges[name] {
			if done[dst] {
				continue
			}
			done[dst] = true
			if dst.Adapter == Web {
				web = true
				continue
			}
			errs = append(errs, r.push(ctx, b, dst, event.Say{To: dst.Conversation, Text: m.Line()}))
		}
		if web || src.Adapter == Web {
			// The web members share one group per bridge, the sender's
			// own path included: they see each other only through it.
			m.Sender = sender
			if err := b.GroupSend(ctx, Group(name), m); err != nil {
				errs = append(errs, fmt.Errorf("bridge %s: web members: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// push hands say to dst's adapter through its push channel, waiting for
// room while the channel is full, up to r.wait.
func (r *relay) push(ctx context.Context, b *consumer.Base, dst Channel, say event.Say) error {
	ctx, cancel := context.WithTimeout(ctx, r.wait)
	defer cancel()
	pause := 10 * time.Millisecond
	for {
		err := b.SendTo(ctx, adapters.PushChannel(dst.Adapter), say)
		if !errors.Is(err, layer.ErrChannelFull) {
			if err != nil {
				return fmt.Errorf("bridge: to %s: %w", dst, err)
			}
			return nil
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("bridge: to %s: push channel full for %s: %w", dst, r.wait, err)
		}
		pause = min(2*pause, time.Second)
	}
}

// logFailed logs a relay's failures: the message was said, but some
// channels did not get it.
func logFailed(log *slog.Logger, src Channel, err error) {
	if err != nil {
		log.Error("bridge: message not relayed to every channel", "from", src.String(), "err", err)
	}
}

// nameOf is how a sender is shown: the name the platform shows (an IRC
// nick, a Telegram first name) before the account name.
func nameOf(s *scope.Scope) string {
	for _, n := range []string{s.User.Name, s.User.Username, s.User.ID} {
		if n != "" {
			return n
		}
	}
	return "anonymous"
}

// chatMember serves a conversation of a chat platform.
type chatMember struct {
	consumer.Chat
	relay *relay
}

// Message relays what was said in a bridged conversation.
func (c *chatMember) Message(ctx context.Context, m event.ChatMessage) error {
	s := c.Scope()
	src := channelOf(s)
	if len(c.relay.links.of[src]) == 0 {
		c.Logger().Debug("bridge: conversation in no bridge", "channel", src.String())
		return nil
	}
	msg := Message{Protocol: s.Type, From: nameOf(s), Text: m.ChatText()}
	logFailed(c.Logger(), src, c.relay.from(ctx, &c.Base, src, msg, ""))
	return nil
}

// webMember serves a WebSocket of the web page.
type webMember struct {
	consumer.WebSocket
	relay *relay
	self  string
}

// Connect accepts a WebSocket on a bridged path and joins its bridges'
// web groups; on any other path it refuses the handshake (HTTP 403).
func (w *webMember) Connect(ctx context.Context, _ wsevent.Connect) error {
	src := channelOf(w.Scope())
	names := w.relay.links.of[src]
	if len(names) == 0 {
		return w.Close(ctx, 1008) // before Accept: the handshake is refused
	}
	self, err := w.ChannelName(ctx)
	if err != nil {
		return err
	}
	w.self = self
	for _, name := range names {
		if err := w.GroupAdd(ctx, Group(name)); err != nil {
			return err
		}
	}
	return w.Accept(ctx, "")
}

// Receive relays a text frame.
func (w *webMember) Receive(ctx context.Context, r wsevent.Receive) error {
	if r.Text == "" {
		return nil
	}
	s := w.Scope()
	src := channelOf(s)
	msg := Message{Protocol: "web", From: nameOf(s), Text: r.Text}
	logFailed(w.Logger(), src, w.relay.from(ctx, &w.Base, src, msg, w.self))
	return nil
}

// Show shows what was said elsewhere, unless this member said it.
func (w *webMember) Show(ctx context.Context, m Message) error {
	if m.Sender == w.self {
		return nil
	}
	return w.SendText(ctx, m.Line())
}
