package irc

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ergochat/irc-go/ircmsg"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/reconnect"
	"github.com/switchboard-bots/switchboard/adapters/throttle"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrLogin is wrapped by the error Serve returns when the server refuses
// the bot's credentials (PASS or SASL): trying again cannot help.
var ErrLogin = errors.New("irc: login refused")

// Adapter is the IRC adapter: one connection to one server, kept up
// across drops, serving every channel and private conversation on it.
type Adapter struct {
	name   string
	cfg    Config
	tls    *tls.Config
	clock  scope.Clock
	link   *reconnect.Link[*conn]
	flood  *throttle.Bucket
	report adapters.Report // set by Serve before the first connection is up

	dropped atomic.Int64 // messages not delivered: a full inbox, or not UTF-8
}

var (
	_ adapters.Adapter = (*Adapter)(nil)
	_ adapters.Pusher  = (*Adapter)(nil)
	_ reconnect.Conn   = (*conn)(nil)
)

// Option configures an Adapter.
type Option func(*Adapter)

// WithClock sets the clock of the flood control and of the reconnection
// backoff. Default: the wall clock.
func WithClock(c scope.Clock) Option { return func(a *Adapter) { a.clock = c } }

// New returns an adapter called name ("irc" if empty) for cfg.
func New(name string, cfg Config, opts ...Option) (*Adapter, error) {
	name = cmp.Or(name, Protocol)
	tc, err := cfg.check()
	if err != nil {
		return nil, fmt.Errorf("irc %s: %w", name, err)
	}
	a := &Adapter{name: name, cfg: cfg, tls: tc}
	for _, o := range opts {
		o(a)
	}
	a.link = reconnect.New(a.dial, reconnect.Options{Clock: a.clock, Fatal: func(err error) bool { return errors.Is(err, ErrLogin) }})
	a.flood = throttle.New(cfg.Flood.Burst, cfg.Flood.Interval, a.clock)
	return a, nil
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.name }

// Serve implements adapters.Adapter with a reconnect.Link: it fails only
// when the server refuses the bot's login (ErrLogin).
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	a.report = in.Report()
	return a.link.Serve(ctx, in)
}

// dial connects, registers, and returns once the server welcomed the bot
// and the channels are asked for. ircevent's Connect, which does the TLS
// handshake and the registration, waits for the server alone: the
// adapter dials the socket itself and closes it if ctx ends first.
func (a *Adapter) dial(ctx context.Context, in *adapters.Intake) (*conn, error) {
	d := net.Dialer{Timeout: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", a.cfg.Server)
	if err != nil {
		return nil, err
	}
	log := in.Logger().With("adapter", a.name, "server", a.cfg.Server)
	c := newConn(a.name, nc, a.cfg, a.tls, log)
	c.irc.AddCallback("PRIVMSG", func(m ircmsg.Message) { a.deliver(ctx, in, c, &m, log) })
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	if err := c.irc.Connect(); err != nil {
		stop()
		return nil, c.refusal(err) // Connect closed the socket
	}
	_, sasl := c.irc.AcknowledgedCaps()["sasl"]
	switch {
	case !stop():
		err = ctx.Err()
	case a.cfg.SASL != nil && !sasl: // the server ignored CAP
		err = fmt.Errorf("%w: registered without SASL", ErrLogin)
	default:
		err = c.join(a.cfg.Channels)
	}
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// deliver hands a PRIVMSG to its conversation without waiting: IRC
// resends nothing, and a reader waiting for one full inbox would stop
// the PONGs that keep every other conversation connected.
func (a *Adapter) deliver(ctx context.Context, in *adapters.Intake, c *conn, m *ircmsg.Message, log *slog.Logger) {
	from, err := m.NUH()
	if err != nil || len(m.Params) < 2 || ctx.Err() != nil || c.isMe(from.Name) || strings.HasPrefix(m.Params[1], "\x01") {
		return // malformed, shutting down, the bot's own echo, or CTCP
	}
	if !utf8.ValidString(m.Params[1]) {
		log.Warn("irc: message skipped: not UTF-8", "from", from.Name, "dropped_total", a.dropped.Add(1))
		return
	}
	raw, _ := m.Line()
	ev := Message{Nick: from.Name, User: from.User, Host: from.Host, Text: m.Params[1], Raw: strings.TrimSuffix(raw, "\r\n")}
	key, chat := fold(from.Name), scope.Chat{ID: from.Name, Type: "private"}
	if target := m.Params[0]; isChannel(target) {
		ev.Channel, key, chat = target, fold(target), scope.Chat{ID: target, Type: "channel"}
		if a.cfg.KeyBy == "channel_user" {
			key += " " + fold(from.Name)
		}
	}
	me := c.irc.CurrentNick()
	err = in.TryDeliver(key, ev, func() *scope.Scope {
		s := &scope.Scope{Type: Protocol, Adapter: a.name, Chat: chat,
			User: scope.User{ID: from.Name, Name: from.Name, Username: from.User},
			Bot:  scope.User{ID: me, Name: me, Username: me}}
		s.SetAdapterValue(chat.ID) // where Say and Send without a target go
		return s
	}, nil)
	if err != nil {
		log.Warn("irc: message dropped", "key", key, "err", err, "dropped_total", a.dropped.Add(1))
	}
}

// isChannel reports whether target names a channel rather than a nick.
func isChannel(target string) bool {
	return target != "" && strings.ContainsRune("#&+!", rune(target[0]))
}

// fold is a name as a conversation key: IRC names ignore case.
func fold(name string) string { return strings.ToLower(name) }
