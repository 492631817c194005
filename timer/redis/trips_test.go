package redis_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/timer/redis"
)

// trips counts a client's round trips to Redis: claims, acks and the
// rest (pipelines count one each).
type trips struct {
	claims, acks, other atomic.Int64
}

var _ goredis.Hook = (*trips)(nil)

func (*trips) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (c *trips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.count(cmd.Args())
		return next(ctx, cmd)
	}
}

func (c *trips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.other.Add(1)
		return next(ctx, cmds)
	}
}

// count files one command under the script it runs, by its hash or
// (EVAL, after NOSCRIPT) its text's.
func (c *trips) count(args []any) {
	script := ""
	if len(args) > 1 {
		if name, _ := args[0].(string); strings.EqualFold(name, "evalsha") || strings.EqualFold(name, "eval") {
			script = fmt.Sprint(args[1])
		}
	}
	switch {
	case script == redis.ClaimHash || strings.Contains(script, "ZRANGEBYSCORE"):
		c.claims.Add(1)
	case script == redis.AckHash || strings.Contains(script, "ZSCORE"):
		c.acks.Add(1)
	default:
		c.other.Add(1)
	}
}

// per returns the round trips per fired timer, in all and by kind.
func (c *trips) per(fired int) string {
	cl, ac, ot := c.claims.Load(), c.acks.Load(), c.other.Load()
	f := float64(fired)
	return fmt.Sprintf("%.3f round trips per fired timer (claims %.3f, settles %.3f, other %.3f)",
		float64(cl+ac+ot)/f, float64(cl)/f, float64(ac)/f, float64(ot)/f)
}
