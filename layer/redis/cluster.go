package redis

import (
	"context"
	"errors"

	goredis "github.com/redis/go-redis/v9"
)

// reloadOnOutage makes a cluster client reload its map of slots to nodes
// as soon as a command fails because a node could not be reached. go-redis
// reloads the map on MOVED and ASK replies, which a dead master never
// sends, and otherwise once a minute: without this hook the slots of a
// master that was killed and replaced by its replica stay unreachable for
// up to a minute after the replica took over, long enough for messages
// that survived the failover to expire.
type reloadOnOutage struct{ c *goredis.ClusterClient }

// watchCluster adds reloadOnOutage to c if it is a cluster client.
func watchCluster(c goredis.UniversalClient) {
	if cc, ok := c.(*goredis.ClusterClient); ok {
		cc.AddHook(reloadOnOutage{cc})
	}
}

func (reloadOnOutage) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h reloadOnOutage) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		h.check(err)
		return err
	}
}

func (h reloadOnOutage) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		h.check(err)
		return err
	}
}

// check asks for a reload after an outage. go-redis runs at most one
// reload at a time, and one more at most 200 ms after it, however often
// it is asked.
func (h reloadOnOutage) check(err error) {
	if err == nil || errors.Is(err, goredis.Nil) || errors.Is(err, goredis.ErrClosed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || !isOutage(err) {
		return
	}
	h.c.ReloadState(context.Background())
}
