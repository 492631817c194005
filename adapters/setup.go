package adapters

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/ratelimit"
)

// Setup is what a Factory gets from the server to build an adapter from
// its section of the config file.
type Setup struct {
	// Name is the adapter's name: its section's key in the config file.
	Name string
	// Decode decodes the adapter's section into v strictly: an unknown
	// key, a value of the wrong type or an unset environment variable is
	// an error naming the file, line and key. The keys every section has
	// (enabled, scopes) are the server's and are not passed on. For a
	// section turned off, which the server only checks, Decode returns
	// ErrSectionOff once v is decoded: the factory returns it, as any
	// error of Decode, and builds nothing.
	Decode func(v any) error
	// Logger is the server's logger.
	Logger *slog.Logger
	// Layer is the server's channel layer. When processes sharing it can
	// elect one of them (the Redis layer), it is also a Leaser.
	Layer layer.Layer
	// Limiter, when set, keeps platform rate limits for every process
	// sharing it (the server sets one on the Redis layer): an adapter
	// takes a slot of it for each outbound call, besides its own limits
	// in this process. Nil: each process keeps its own limits alone.
	Limiter ratelimit.Limiter
	// Stdin and Stdout are the process's, for adapters that use them.
	Stdin  io.Reader
	Stdout io.Writer
}

// ErrSectionOff is what Setup.Decode returns, once it decoded, for a
// section turned off (enabled: false): the server checks such a section's
// keys without building its adapter, so that a mistake in it is found
// before the day it is turned on.
var ErrSectionOff = errors.New("adapters: section turned off")

// Factory builds an adapter from its config section. A server knows
// adapters by kind through a registry of factories; the Host that runs the
// adapter is the server's.
type Factory func(Setup) (Adapter, error)

// FactoryFor is the Factory of an adapter made from its name and its
// config section alone: it decodes the section into a C (strictly, see
// Setup.Decode) and calls build with the section's name. A failed build
// returns a nil Adapter, never a typed nil.
func FactoryFor[C any, A Adapter](build func(name string, cfg C) (A, error)) Factory {
	return func(s Setup) (Adapter, error) {
		var cfg C
		if err := s.Decode(&cfg); err != nil {
			return nil, err
		}
		a, err := build(s.Name, cfg)
		if err != nil {
			return nil, err
		}
		return a, nil
	}
}

// Lease is an expiring lock shared by the processes on one channel layer,
// so that one of them alone does what must not be done twice, such as
// polling a platform that refuses two pollers of one token. Its holder
// renews it well before ttl passes; if the holder dies, the lease expires
// and another process takes over.
type Lease interface {
	// Acquire takes the lease for owner if it is free or expired, and
	// reports whether owner holds it.
	Acquire(ctx context.Context, key, owner string, ttl time.Duration) (bool, error)
	// Renew extends the lease if owner still holds it, and reports
	// whether it did.
	Renew(ctx context.Context, key, owner string, ttl time.Duration) (bool, error)
	// Release frees the lease if owner holds it.
	Release(ctx context.Context, key, owner string) error
}

// Leaser is the optional interface of a Setup.Layer shared by several
// processes: a factory whose adapter must run in one process at a time
// takes its Lease. A layer within one process is not a Leaser.
type Leaser interface {
	Lease() Lease
}

// NeededRoute is a scope that an adapter makes its own clients open, such
// as the WebSocket that the web chat page it serves connects to: a server
// checks that a route serves it, since without one the page is broken.
type NeededRoute struct {
	// Protocol and Path are the scope's type and path.
	Protocol, Path string
	// Why says what opens the scope, for the error, such as
	// `the chat page at "/" connects to "/ws/"`.
	Why string
	// Keys are the settings of the adapter's section that ask for the
	// scope, most specific first, for the error's line.
	Keys []string
	// Fix says how else than by a route to mend it, for the error, such
	// as `or set page_socket to a routed path`.
	Fix string
}

// RouteNeeder is the optional interface of an Adapter whose own clients
// open scopes that need a route (NeededRoute).
type RouteNeeder interface {
	NeededRoutes() []NeededRoute
}
