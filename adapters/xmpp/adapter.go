package xmpp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmlstream"
	xmpplib "mellium.im/xmpp"

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

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
