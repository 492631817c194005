package redistest

import (
	"context"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// RoundTrips is a go-redis hook that counts a client's round trips to
// Redis (a command, or a pipeline however long) and the commands they
// carry. Add it with the client's AddHook.
type RoundTrips struct {
	Trips, Cmds atomic.Int64
}

var _ goredis.Hook = (*RoundTrips)(nil)

// DialHook implements goredis.Hook.
func (r *RoundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }

// ProcessHook implements goredis.Hook.
func (r *RoundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.Trips.Add(1)
		r.Cmds.Add(1)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements goredis.Hook.
func (r *RoundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		r.Trips.Add(1)
		r.Cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// During returns the round trips made while f ran.
func (r *RoundTrips) During(f func()) int64 {
	before := r.Trips.Load()
	f()
	return r.Trips.Load() - before
}
