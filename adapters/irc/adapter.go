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
	"time"

	"github.com/ergochat/irc-go/ircmsg"
	"github.com/ergochat/irc-go/ircutils"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/lines"
	"github.com/switchboard-bots/switchboard/adapters/reconnect"
	"github.com/switchboard-bots/switchboard/adapters/throttle"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrLogin is wrapped by the error Serve returns when the server refuses
// the bot's credentials (PASS or SASL): trying again cannot help.
var ErrLogin = errors.New("irc: login refused")

// readTimeout drops a connection silent for this long: servers ping idle
// clients every minute or two.
const readTimeout = 5 * time.Minute

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

// dial connects and returns once the server welcomed the bot and the
// channels are asked for; the reader goes on until the connection drops.
func (a *Adapter) dial(ctx context.Context, in *adapters.Intake) (*conn, error) {
	d := net.Dialer{Timeout: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", a.cfg.Server)
	if err != nil {
		return nil, err
	}
	if a.tls != nil {
		tc := tls.Client(nc, a.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	c := newConn(nc, a.cfg.Nick)
	log := in.Logger().With("adapter", a.name, "server", a.cfg.Server)
	go c.serve(func() error { return a.read(ctx, in, c, log) })
	select {
	case <-c.welcomed:
		return c, nil
	case <-c.done:
		return nil, c.err
	case <-ctx.Done():
		_ = c.Close()
		return nil, ctx.Err()
	}
}

// read registers and acts on each line the server sends until c fails.
func (a *Adapter) read(ctx context.Context, in *adapters.Intake, c *conn, log *slog.Logger) error {
	if err := a.register(c); err != nil {
		return err
	}
	r := lines.NewReader(c.nc, 8191+512) // IRCv3 tags may take 8191 bytes
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(readTimeout))
		line, err := r.Read()
		if err != nil && !errors.Is(err, lines.ErrSkipped) {
			return err
		}
		m, perr := ircmsg.ParseLine(line)
		if err = cmp.Or(err, perr); err != nil {
			log.Warn("irc: line skipped", "err", err)
			continue
		}
		if err := a.handle(ctx, in, c, &m, line, log); err != nil {
			return err
		}
	}
}

func (a *Adapter) register(c *conn) error {
	var err error
	if a.cfg.SASL != nil {
		err = c.write("CAP", "REQ", "sasl")
	}
	if a.cfg.Password != "" {
		err = errors.Join(err, c.write("PASS", a.cfg.Password))
	}
	return errors.Join(err, c.write("NICK", c.nick()), c.write("USER", a.cfg.Nick, "0", "*", a.cfg.Nick))
}

// handle acts on one line from the server.
func (a *Adapter) handle(ctx context.Context, in *adapters.Intake, c *conn, m *ircmsg.Message, raw string, log *slog.Logger) error {
	last := ""
	if len(m.Params) > 0 {
		last = m.Params[len(m.Params)-1]
	}
	switch m.Command {
	case "PING":
		return c.write("PONG", m.Params...)
	case "PONG":
		c.fences.Settle(last)
	case "CAP":
		if len(m.Params) > 1 && m.Params[1] == "NAK" {
			return fmt.Errorf("%w: the server offers no SASL", ErrLogin)
		}
		if len(m.Params) > 1 && m.Params[1] == "ACK" {
			return c.write("AUTHENTICATE", "PLAIN")
		}
	case "AUTHENTICATE":
		plain := "\x00" + a.cfg.SASL.User + "\x00" + a.cfg.SASL.Password
		for _, chunk := range ircutils.EncodeSASLResponse([]byte(plain)) {
			if err := c.write("AUTHENTICATE", chunk); err != nil {
				return err
			}
		}
	case "903": // RPL_SASLSUCCESS
		c.saslOK = true
		return c.write("CAP", "END")
	case "902", "904", "905", "906", "464", "465": // SASL failed, bad PASS, banned
		return fmt.Errorf("%w: %s %s", ErrLogin, m.Command, last)
	case "433": // ERR_NICKNAMEINUSE, while registering
		if !c.registered {
			return c.write("NICK", c.setNick(c.nick()+"_"))
		}
	case "001": // RPL_WELCOME: registered as Params[0]
		if len(m.Params) == 0 {
			return errors.New("irc: RPL_WELCOME without a nick")
		}
		c.setNick(m.Params[0])
		if a.cfg.SASL != nil && !c.saslOK {
			return fmt.Errorf("%w: registered without SASL", ErrLogin)
		}
		c.registered = true
		if err := c.join(a.cfg.Channels); err != nil {
			return err
		}
		close(c.welcomed)
	case "JOIN":
		if c.isMe(m.Nick()) { // the server's echo tells the bot its own prefix
			c.setPrefix(m.Source)
		}
	case "NICK":
		if c.isMe(m.Nick()) {
			c.setNick(last)
		}
	case "PRIVMSG": // a NOTICE is never delivered, so never answered
		a.deliver(ctx, in, c, m, raw, log)
	case "ERROR":
		if !c.registered && strings.Contains(strings.ToLower(last), "password") {
			return fmt.Errorf("%w: %s", ErrLogin, last) // ngircd refuses PASS so
		}
		return fmt.Errorf("server closed the link: %s", last)
	default:
		c.refused(a.name, m)
	}
	return nil
}

// deliver hands a PRIVMSG to its conversation without waiting: IRC
// resends nothing, and a reader waiting for one full inbox would stop
// the PONGs that keep every other conversation connected.
func (a *Adapter) deliver(ctx context.Context, in *adapters.Intake, c *conn, m *ircmsg.Message, raw string, log *slog.Logger) {
	from, err := m.NUH()
	if err != nil || len(m.Params) < 2 || ctx.Err() != nil || c.isMe(from.Name) || strings.HasPrefix(m.Params[1], "\x01") {
		return // malformed, shutting down, the bot's own echo, or CTCP
	}
	ev := Message{Nick: from.Name, User: from.User, Host: from.Host, Text: m.Params[1], Raw: raw}
	key, chat := fold(from.Name), scope.Chat{ID: from.Name, Type: "private"}
	if target := m.Params[0]; isChannel(target) {
		ev.Channel, key, chat = target, fold(target), scope.Chat{ID: target, Type: "channel"}
		if a.cfg.KeyBy == "channel_user" {
			key += " " + fold(from.Name)
		}
	}
	me := c.nick()
	err = in.TryDeliver(key, ev, func() *scope.Scope {
		s := &scope.Scope{Type: Protocol, Adapter: a.name, Chat: chat,
			User: scope.User{ID: from.Name, Name: from.Name, Username: from.User},
			Bot:  scope.User{ID: me, Name: me, Username: me}}
		s.SetAdapterValue(chat.ID) // where Say and Send without a target go
		return s
	}, nil)
	if err != nil {
		log.Warn("irc: message dropped", "key", key, "err", err)
	}
}

// isChannel reports whether target names a channel rather than a nick.
func isChannel(target string) bool {
	return target != "" && strings.ContainsRune("#&+!", rune(target[0]))
}

// fold is a name as a conversation key: IRC names ignore case.
func fold(name string) string { return strings.ToLower(name) }
