package redis

import (
	"context"
	"errors"

	goredis "github.com/redis/go-redis/v9"
)

// reloadOnOutage makes cluster clients reload their maps of slots to
// nodes as soon as a command fails because a node could not be reached.
// go-redis reloads a map on MOVED and ASK replies, which a dead master
// never sends, and otherwise once a minute: without this hook the slots
// of a master that was killed and replaced by its replica stay
// unreachable for up to a minute after the replica took over, long
// enough for messages that survived the failover to expire. The clients
// of one deployment reload together, so that the receive loops' client,
// which waits between retries, has the new map as soon as a send found
// the old one wrong.
type reloadOnOutage struct{ clients []*goredis.ClusterClient }

// watchCluster adds reloadOnOutage to those of clients that are cluster
// clients, all talking to one cluster.
func watchCluster(clients ...goredis.UniversalClient) {
	var h reloadOnOutage
	for _, c := range clients {
		if cc, ok := c.(*goredis.ClusterClient); ok {
			h.clients = append(h.clients, cc)
		}
	}
	for _, cc := range h.clients {
		cc.AddHook(h)
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
	for _, c := range h.clients {
		c.ReloadState(context.Background())
	}
}
