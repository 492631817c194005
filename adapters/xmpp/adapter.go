package xmpp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"mellium.im/xmlstream"
	xmpplib "mellium.im/xmpp"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/reconnect"
)

// ErrLogin is wrapped by the error Serve returns when the server refuses
// the bot's credentials: trying again cannot help.
var ErrLogin = errors.New("xmpp: login refused")

// joinTimeout bounds the wait for a room's answer to a join.
const joinTimeout = 30 * time.Second

// Adapter is the XMPP adapter: one client stream to one server, kept up
// across drops, serving every room and one-to-one conversation on it.
type Adapter struct {
	name      string
	cfg       Config
	p         parsed
	noHistory bool
	link      *reconnect.Link[*conn]
}

var (
	_ adapters.Adapter = (*Adapter)(nil)
	_ adapters.Pusher  = (*Adapter)(nil)
	_ reconnect.Conn   = (*conn)(nil)
)

// Option configures an Adapter.
type Option func(*Adapter)

// New returns an adapter called name ("xmpp" if empty) for cfg.
func New(name string, cfg Config, opts ...Option) (*Adapter, error) {
	if name == "" {
		name = Protocol
	}
	p, err := cfg.check()
	if err != nil {
		return nil, fmt.Errorf("xmpp %s: %w", name, err)
	}
	a := &Adapter{name: name, cfg: cfg, p: p, noHistory: true}
	for _, o := range opts {
		o(a)
	}
	a.link = reconnect.New(a.connect, reconnect.Options{Fatal: func(err error) bool { return errors.Is(err, ErrLogin) }})
	return a, nil
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.name }

// Serve implements adapters.Adapter with a reconnect.Link: it fails only
// when the server refuses the bot's login (ErrLogin). The backoff and
// the pings run on the Host's clock.
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	return a.link.Serve(ctx, in)
}

// connect negotiates a stream, says the bot is present and joins the
// rooms; the stream's reader goes on until it drops.
func (a *Adapter) connect(ctx context.Context, in *adapters.Intake) (*conn, error) {
	log := in.Logger().With("adapter", a.name, "jid", a.p.me.String())
	s, err := a.dial(ctx)
	if err != nil {
		return nil, err
	}
	c := newConn(s)
	go func() {
		defer c.End(errors.New("the server closed the stream"))
		err := s.Serve(xmpplib.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			return a.handle(ctx, in, c, r, start, log)
		}))
		if err != nil {
			log.Debug("xmpp: stream ended", "err", err)
		}
	}()
	if err := c.raw(ctx, "<presence/>"); err != nil {
		c.hangUp()
		return nil, err
	}
	a.joinRooms(ctx, c, log)
	if a.cfg.PingInterval > 0 {
		go a.keepAlive(c, in.Clock(), log)
	}
	return c, nil
}
