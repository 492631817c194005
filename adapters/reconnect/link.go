package reconnect

import (
	"context"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// Conn is a live connection, as a Link keeps it.
type Conn interface {
	// Done is closed once the connection is gone.
	Done() <-chan struct{}
	// Err says why the connection is gone, once Done is closed.
	Err() error
	// Close takes leave of the platform, closes the connection, and
	// returns once Done is closed.
	Close() error
}

// Comparable is the constraint on a Link's connection type: a Conn that
// can be told from another, such as a pointer.
type Comparable interface {
	Conn
	comparable
}

// Dial connects, logs in and joins, and returns the connection once it
// is up, or why it is not. The connection may outlive ctx, which ends
// when Serve's does: the Link closes it. A Dial that fails must leave
// nothing open.
type Dial[C Comparable] func(ctx context.Context, in *adapters.Intake) (C, error)

// Options tune a Link; the zero value is usable.
type Options struct {
	// Min is the wait after the first failed attempt, doubled after each
	// further one up to Max, and reset once a connection is up. Default:
	// DefaultMin.
	Min time.Duration
	// Max bounds the wait. Default: DefaultMax.
	Max time.Duration
	// Clock times the waits. Default: the Intake's (Intake.Clock).
	Clock scope.Clock
	// Fatal reports whether an error from Dial, or a lost connection's
	// Err, is one that no retry can mend, such as refused credentials:
	// Serve then returns it. Default: no error is.
	Fatal func(error) bool
}

// Backoff defaults: a platform that is down is tried every second at
// first and every two minutes at worst.
const (
	DefaultMin = time.Second
	DefaultMax = 2 * time.Minute
)

// Link keeps one connection of type C up. Make it with New; its methods
// are safe for concurrent use.
type Link[C Comparable] struct {
	dial Dial[C]
	opts Options

	mu   sync.Mutex
	cur  C
	live bool
	up   chan struct{} // closed once a connection is live
}

// New returns a Link that connects with dial.
func New[C Comparable](dial Dial[C], opts Options) *Link[C] {
	if opts.Min <= 0 {
		opts.Min = DefaultMin
	}
	if opts.Max <= 0 {
		opts.Max = DefaultMax
	}
	opts.Max = max(opts.Max, opts.Min)
	return &Link[C]{dial: dial, opts: opts, up: make(chan struct{})}
}

// Serve is an adapter's Serve: it keeps a connection up until ctx ends,
// then returns nil, leaving the connection open until in.Grace ends. It
// returns an error only when Options.Fatal says so.
func (l *Link[C]) Serve(ctx context.Context, in *adapters.Intake) error {
	log := in.Logger().With("adapter", in.Name())
	clock := l.opts.Clock
	if clock == nil {
		clock = in.Clock()
	}
	wait := l.opts.Min
	for {
		c, err := l.dial(ctx, in)
		if err == nil {
			wait = l.opts.Min
			l.set(c)
			in.Reachable()
			in.Ready()
			select {
			case <-c.Done():
				err = c.Err()
				l.drop(c)
			case <-ctx.Done():
				go l.linger(in.Grace(), c)
				return nil
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if l.opts.Fatal != nil && l.opts.Fatal(err) {
			return err
		}
		in.Unreachable(err)
		log.Warn("connection lost; reconnecting", "err", err, "retry_in", wait)
		select {
		case <-clock.After(wait):
		case <-ctx.Done():
			return nil
		}
		wait = min(2*wait, l.opts.Max)
	}
}

// linger closes c once grace ends, unless it dropped before.
func (l *Link[C]) linger(grace context.Context, c C) {
	select {
	case <-grace.Done():
		_ = c.Close()
	case <-c.Done():
	}
	l.drop(c)
}

// Current returns the live connection, waiting for one until ctx ends.
func (l *Link[C]) Current(ctx context.Context) (C, error) {
	for {
		l.mu.Lock()
		c, live, up := l.cur, l.live, l.up
		l.mu.Unlock()
		if live {
			return c, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			var none C
			return none, ctx.Err()
		}
	}
}

// Live returns the live connection, if there is one, without waiting.
func (l *Link[C]) Live() (C, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur, l.live
}

func (l *Link[C]) set(c C) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cur, l.live = c, true
	close(l.up)
}

// drop forgets c if it is the live connection.
func (l *Link[C]) drop(c C) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live && l.cur == c {
		var none C
		l.cur, l.live, l.up = none, false, make(chan struct{})
	}
}
