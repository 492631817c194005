package xmpp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	xmpplib "mellium.im/xmpp"
	"mellium.im/xmpp/dial"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrLogin is wrapped by the error Serve returns when the server refuses
// the bot's credentials: trying again cannot help.
var ErrLogin = errors.New("xmpp: login refused")

// Reconnection backoff: doubled after each failed attempt, reset once a
// stream is negotiated.
const (
	minBackoff = time.Second
	maxBackoff = 2 * time.Minute
	// joinTimeout bounds the wait for a room's answer to a join.
	joinTimeout = 30 * time.Second
)

// Adapter is the XMPP adapter: one client stream to one server, kept up
// across drops, serving every room and one-to-one conversation on it.
type Adapter struct {
	name      string
	cfg       Config
	p         parsed
	clock     scope.Clock
	noHistory bool
	dropped   atomic.Int64 // messages dropped because their inbox was full

	mu   sync.Mutex    // guards the fields below
	conn *conn         // the negotiated stream; nil while there is none
	up   chan struct{} // closed once conn is set
}

var (
	_ adapters.Adapter = (*Adapter)(nil)
	_ adapters.Pusher  = (*Adapter)(nil)
)

// Option configures an Adapter.
type Option func(*Adapter)

// WithClock sets the clock of the reconnection backoff and the pings.
// Default: the wall clock.
func WithClock(c scope.Clock) Option { return func(a *Adapter) { a.clock = c } }

// New returns an adapter called name ("xmpp" if empty) for cfg.
func New(name string, cfg Config, opts ...Option) (*Adapter, error) {
	if name == "" {
		name = Protocol
	}
	p, err := cfg.check()
	if err != nil {
		return nil, fmt.Errorf("xmpp %s: %w", name, err)
	}
	a := &Adapter{name: name, cfg: cfg, p: p, clock: wallClock{}, noHistory: true, up: make(chan struct{})}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.name }

// Serve connects, logs in, joins the rooms and delivers messages until
// ctx ends, reconnecting with backoff whenever the stream drops. It fails
// only when the server refuses the bot's login (ErrLogin).
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	log := in.Logger().With("adapter", a.name, "jid", a.p.me.String())
	wait := minBackoff
	for {
		negotiated, err := a.session(ctx, in, log)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrLogin) {
			return err
		}
		if negotiated {
			wait = minBackoff
		}
		log.Warn("xmpp: connection lost; reconnecting", "err", err, "retry_in", wait)
		select {
		case <-a.clock.After(wait):
		case <-ctx.Done():
			return nil
		}
		wait = min(2*wait, maxBackoff)
	}
}

// session runs one stream until it drops or ctx ends. When ctx ends
// first, the stream stays up for the scopes' last replies until the Host
// is done with them (in.Grace), then closes.
func (a *Adapter) session(ctx context.Context, in *adapters.Intake, log *slog.Logger) (negotiated bool, err error) {
	s, err := a.dial(ctx)
	if err != nil {
		return false, err
	}
	c := newConn(s)
	go func() {
		defer close(c.done)
		err := s.Serve(xmpplib.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			return a.handle(ctx, in, c, r, start, log)
		}))
		if err != nil {
			log.Debug("xmpp: stream ended", "err", err)
		}
	}()
	if err := c.raw(ctx, "<presence/>"); err != nil {
		a.hangUp(c)
		return true, err
	}
	a.joinRooms(ctx, c, log)
	a.connected(c)
	in.Ready()
	if a.cfg.PingInterval > 0 {
		go a.keepAlive(c, log)
	}
	select {
	case <-c.done:
		a.lost(c)
		return true, errors.New("the server closed the stream")
	case <-ctx.Done():
		go func() {
			<-in.Grace().Done()
			bye, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = c.raw(bye, `<presence type="unavailable"/>`)
			a.hangUp(c)
		}()
		return true, nil
	}
}

// hangUp closes c's stream and connection and forgets it.
func (a *Adapter) hangUp(c *conn) {
	_ = c.s.Close()
	_ = c.s.Conn().Close()
	<-c.done
	a.lost(c)
}

// dial connects and negotiates a stream: STARTTLS (required: the SASL
// feature needs a secure stream, so the password never goes in clear),
// SASL with the strongest mechanism both sides have, and a resource.
func (a *Adapter) dial(ctx context.Context) (*xmpplib.Session, error) {
	var nc net.Conn
	var err error
	if a.cfg.Server != "" {
		d := net.Dialer{Timeout: 30 * time.Second}
		nc, err = d.DialContext(ctx, "tcp", a.cfg.Server)
	} else {
		d := dial.Dialer{NoTLS: true, Dialer: net.Dialer{Timeout: 30 * time.Second}}
		nc, err = d.Dial(ctx, "tcp", a.p.me.Domain())
	}
	if err != nil {
		return nil, err
	}
	nctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s, err := xmpplib.NewClientSession(nctx, a.p.me, nc,
		xmpplib.StartTLS(a.p.tls.Clone()),
		xmpplib.SASL("", string(a.cfg.Password), sasl.ScramSha256, sasl.ScramSha1, sasl.Plain),
		xmpplib.BindResource())
	if err != nil {
		nc.Close()
		return nil, loginError(err)
	}
	return s, nil
}

// loginError marks a refusal of the credentials, which a retry cannot
// mend, with ErrLogin. The library's errors never hold the password.
func loginError(err error) error {
	for e := range errorTree(err) {
		// The library keeps its SASL failure type internal: its name and
		// its condition are all there is to go by.
		if fmt.Sprintf("%T", e) == "saslerr.Error" && e.Error() != "temporary-auth-failure" {
			return fmt.Errorf("%w: %v", ErrLogin, err)
		}
	}
	return err
}

// errorTree yields err and every error it wraps.
func errorTree(err error) func(func(error) bool) {
	return func(yield func(error) bool) {
		var walk func(error) bool
		walk = func(e error) bool {
			if e == nil {
				return true
			}
			if !yield(e) {
				return false
			}
			switch u := e.(type) {
			case interface{ Unwrap() error }:
				return walk(u.Unwrap())
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					if !walk(x) {
						return false
					}
				}
			}
			return true
		}
		walk(err)
	}
}

// joinRooms joins every configured room on c. A room that refuses is
// logged and skipped until the next connection; a taken nick is retried
// with "_" appended.
func (a *Adapter) joinRooms(ctx context.Context, c *conn, log *slog.Logger) {
	for _, r := range a.p.rooms {
		nick := r.nick
		for try := 0; ; try++ {
			jctx, cancel := context.WithTimeout(ctx, joinTimeout)
			err := c.join(jctx, r.addr, nick, a.noHistory)
			cancel()
			var se stanza.Error
			if errors.As(err, &se) && se.Condition == stanza.Conflict && try < 3 {
				nick += "_"
				continue
			}
			if err != nil && ctx.Err() == nil {
				log.Warn("xmpp: could not join a room", "room", r.addr.String(), "nick", nick, "err", err)
			}
			break
		}
	}
}

// keepAlive pings the server every PingInterval and drops the stream
// when a ping goes unanswered for as long, so that a dead link is found
// and the adapter reconnects.
func (a *Adapter) keepAlive(c *conn, log *slog.Logger) {
	for {
		select {
		case <-c.done:
			return
		case <-a.clock.After(a.cfg.PingInterval):
		}
		ctx, cancel := context.WithCancel(c.ctx)
		go func() {
			select {
			case <-a.clock.After(a.cfg.PingInterval):
				cancel()
			case <-ctx.Done():
			}
		}()
		err := ping.Send(ctx, c.s, a.p.me.Domain())
		cancel()
		if err != nil && c.ctx.Err() == nil {
			log.Warn("xmpp: ping unanswered; dropping the connection", "err", err)
			_ = c.s.Conn().Close()
			return
		}
	}
}

// connected makes c the connection Sends use.
func (a *Adapter) connected(c *conn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conn = c
	close(a.up)
}

// lost forgets c.
func (a *Adapter) lost(c *conn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conn == c {
		a.conn, a.up = nil, make(chan struct{})
	}
}

// current returns the live connection, waiting for one until ctx ends.
func (a *Adapter) current(ctx context.Context) (*conn, error) {
	for {
		a.mu.Lock()
		c, up := a.conn, a.up
		a.mu.Unlock()
		if c != nil {
			return c, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// handle acts on one stanza from the server. It runs on the stream's
// reader with the stream locked, so it never sends through the session.
func (a *Adapter) handle(ctx context.Context, in *adapters.Intake, c *conn, r xmlstream.TokenReadEncoder, start *xml.StartElement, log *slog.Logger) error {
	switch start.Name.Local {
	case "message":
		var m inbound
		raw, err := decode(r, start, &m)
		if err != nil {
			log.Warn("xmpp: message skipped", "err", err)
			return nil
		}
		a.message(ctx, in, c, &m, raw, log)
	case "presence":
		var p presence
		if _, err := decode(r, start, &p); err != nil {
			log.Warn("xmpp: presence skipped", "err", err)
			return nil
		}
		c.presenceDone(&p)
	case "iq":
		return a.iq(r, start)
	}
	return nil
}

// iq answers the server's pings; the library answers any other request
// with service-unavailable.
func (a *Adapter) iq(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	iq, err := stanza.NewIQ(*start)
	if err != nil || iq.Type != stanza.GetIQ {
		return nil
	}
	tok, err := r.Token()
	if se, ok := tok.(xml.StartElement); err == nil && ok && se.Name == (xml.Name{Space: ping.NS, Local: "ping"}) {
		_, err = xmlstream.Copy(r, iq.Result(nil))
		return err
	}
	return nil
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
