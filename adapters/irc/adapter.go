package irc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ergochat/irc-go/ircmsg"
	"github.com/ergochat/irc-go/ircreader"
	"github.com/ergochat/irc-go/ircutils"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrLogin is wrapped by the error Serve returns when the server refuses
// the bot's credentials (PASS or SASL): trying again cannot help.
var ErrLogin = errors.New("irc: login refused")

// Reconnection backoff: doubled after each failed attempt, reset once a
// connection registers.
const (
	minBackoff = time.Second
	maxBackoff = 2 * time.Minute
	// readTimeout drops a connection that stayed silent for this long:
	// servers ping idle clients every minute or two.
	readTimeout = 5 * time.Minute
)

// Adapter is the IRC adapter: one connection to one server, kept up
// across drops, serving every channel and private conversation on it.
type Adapter struct {
	name   string
	cfg    Config
	tls    *tls.Config
	clock  scope.Clock
	bucket *bucket

	mu     sync.Mutex    // guards the fields below
	conn   *conn         // the registered connection; nil while there is none
	up     chan struct{} // closed once conn is set
	report adapters.Report
}

var (
	_ adapters.Adapter = (*Adapter)(nil)
	_ adapters.Pusher  = (*Adapter)(nil)
)

// Option configures an Adapter.
type Option func(*Adapter)

// WithClock sets the clock of the flood control and of the reconnection
// backoff. Default: the wall clock.
func WithClock(c scope.Clock) Option { return func(a *Adapter) { a.clock = c } }

// New returns an adapter called name ("irc" if empty) for cfg.
func New(name string, cfg Config, opts ...Option) (*Adapter, error) {
	if name == "" {
		name = Protocol
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("irc %s: %w", name, err)
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("irc %s: %w", name, err)
	}
	a := &Adapter{name: name, cfg: cfg, tls: tc, clock: wallClock{}, up: make(chan struct{})}
	for _, o := range opts {
		o(a)
	}
	a.bucket = &bucket{clock: a.clock, burst: cfg.Flood.Burst, every: cfg.Flood.Interval}
	return a, nil
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.name }

// Serve connects, registers, joins the channels and delivers messages
// until ctx ends, reconnecting with backoff whenever the connection drops.
// It fails only when the server refuses the bot's login (ErrLogin).
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	a.mu.Lock()
	a.report = in.Report()
	a.mu.Unlock()
	log := in.Logger().With("adapter", a.name, "server", a.cfg.Server)
	wait := minBackoff
	for {
		registered, err := a.session(ctx, in, log)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrLogin) {
			return err
		}
		if registered {
			wait = minBackoff
		}
		log.Warn("irc: connection lost; reconnecting", "err", err, "retry_in", wait)
		select {
		case <-a.clock.After(wait):
		case <-ctx.Done():
			return nil
		}
		wait = min(2*wait, maxBackoff)
	}
}

// session runs one connection until it drops or ctx ends. When ctx ends
// first, the connection stays up for the scopes' last replies until the
// Host is done with them (in.Grace), then quits.
func (a *Adapter) session(ctx context.Context, in *adapters.Intake, log *slog.Logger) (registered bool, err error) {
	d := net.Dialer{Timeout: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", a.cfg.Server)
	if err != nil {
		return false, err
	}
	if a.tls != nil {
		tc := tls.Client(nc, a.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return false, err
		}
		nc = tc
	}
	c := newConn(nc, a.cfg.Nick)
	done := make(chan error, 1)
	go func() { done <- a.read(ctx, in, c, log) }()
	select {
	case err := <-done:
		a.lost(c)
		return c.registered, err // read has returned: its fields are ours
	case <-ctx.Done():
		go func() {
			<-in.Grace().Done()
			_ = c.write("QUIT", "shutting down")
			nc.Close()
			<-done
			a.lost(c)
		}()
		return false, nil
	}
}

// read registers c and handles what the server sends until c fails.
func (a *Adapter) read(ctx context.Context, in *adapters.Intake, c *conn, log *slog.Logger) error {
	defer c.nc.Close()
	if err := a.register(c); err != nil {
		return err
	}
	var r ircreader.Reader
	r.Initialize(c.nc, 1024, 8191+512) // IRCv3 tags may take 8191 bytes
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(readTimeout))
		line, err := r.ReadLine()
		if err != nil {
			return err
		}
		m, err := ircmsg.ParseLine(string(line))
		if err != nil {
			log.Warn("irc: line skipped", "err", err)
			continue
		}
		if err := a.handle(ctx, in, c, &m, string(line), log); err != nil {
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
		c.fenced(last)
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
		c.registered = true
		if a.cfg.SASL != nil && !c.saslOK {
			return fmt.Errorf("%w: registered without SASL", ErrLogin)
		}
		if err := c.join(a.cfg.Channels); err != nil {
			return err
		}
		a.connected(c)
		in.Ready()
	case "JOIN":
		if c.isMe(m.Nick()) { // the server's echo tells the bot its own prefix
			c.mu.Lock()
			c.prefix = m.Source
			c.mu.Unlock()
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
		c.refused(m)
	}
	return nil
}

// deliver hands a PRIVMSG to its conversation.
func (a *Adapter) deliver(ctx context.Context, in *adapters.Intake, c *conn, m *ircmsg.Message, raw string, log *slog.Logger) {
	from, err := m.NUH()
	if err != nil || len(m.Params) < 2 || ctx.Err() != nil || c.isMe(from.Name) {
		return // malformed, shutting down, or the bot's own echo
	}
	target, text := m.Params[0], m.Params[1]
	if strings.HasPrefix(text, "\x01") {
		return // CTCP (VERSION, PING, ACTION) is not chat
	}
	ev := Message{Nick: from.Name, User: from.User, Host: from.Host, Text: text, Raw: raw}
	key, chat := fold(from.Name), scope.Chat{ID: from.Name, Type: "private"}
	if isChannel(target) {
		ev.Channel = target
		key, chat = fold(target), scope.Chat{ID: target, Type: "channel"}
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
		// IRC resends nothing, so waiting here would only stop the PONGs
		// that keep every other conversation connected.
		log.Warn("irc: message dropped", "key", key, "err", err)
	}
}

// connected makes c the connection Sends use.
func (a *Adapter) connected(c *conn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conn = c
	close(a.up)
}

// lost forgets c and fails what waits on it.
func (a *Adapter) lost(c *conn) {
	a.mu.Lock()
	if a.conn == c {
		a.conn, a.up = nil, make(chan struct{})
	}
	a.mu.Unlock()
	c.fail()
}

// isChannel reports whether target names a channel rather than a nick.
func isChannel(target string) bool {
	return target != "" && strings.ContainsRune("#&+!", rune(target[0]))
}

// fold is a name as a conversation key: IRC names ignore case.
func fold(name string) string { return strings.ToLower(name) }

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
