// Command checkserver is a botserver of its own, built the way a user
// builds one: the built-in registry plus a bot. Its "check" bot answers
// every chat message "You said: <text>", as the echo bot does, and
// records in Redis when a conversation's handler enters and leaves, so
// that a test running several processes can tell whether two instances
// of one conversation ever handled at once.
//
// Its settings (bots: {check: {addrs: [...], prefix: ...}}) name the
// Redis (one address: a single server; several: a Cluster) and the key
// prefix. Under "<prefix>:check:{c}:" it keeps: "in:<conversation>", the
// process id of the handler inside; "overlaps", a count of handlers that
// entered while a live process's handler was inside, and "overlap-log",
// what they were; "handled", a count of messages handled; and "dead", the
// ids of processes the test killed, whose marks no longer count.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/server"
)

type settings struct {
	Addrs  []string `yaml:"addrs"`
	Prefix string   `yaml:"prefix"`
}

// enterScript marks a conversation's handler as inside, unless a live
// process's handler is: then it counts an overlap.
//
// KEYS: the mark, the dead processes, the overlap count, the overlap log,
// the handled count. ARGV[1]: this process's id, ARGV[2] what is handled.
var enterScript = goredis.NewScript(`
redis.call('INCR', KEYS[5])
local holder = redis.call('GET', KEYS[1])
if holder and redis.call('SISMEMBER', KEYS[2], holder) == 0 then
  redis.call('INCR', KEYS[3])
  redis.call('RPUSH', KEYS[4], KEYS[1] .. ' held by ' .. holder .. ', entered by ' .. ARGV[1] .. ' for ' .. ARGV[2])
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`)

// leaveScript removes this process's mark.
var leaveScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`)

// checker is the check bot's consumer.
type checker struct {
	consumer.Chat
	rdb    goredis.UniversalClient
	prefix string
	pid    string
}

// Message answers m between an enter and a leave mark.
func (b *checker) Message(ctx context.Context, m event.ChatMessage) error {
	s := b.Scope()
	base := b.prefix + ":check:{c}:"
	mark := base + "in:" + s.Type + ":" + s.Key
	keys := []string{mark, base + "dead", base + "overlaps", base + "overlap-log", base + "handled"}
	if err := enterScript.Run(ctx, b.rdb, keys, b.pid, m.ChatText()).Err(); err != nil {
		return fmt.Errorf("check: enter: %w", err)
	}
	defer leaveScript.Run(context.WithoutCancel(ctx), b.rdb, []string{mark}, b.pid)
	return b.Reply(ctx, "You said: "+m.ChatText())
}

func main() {
	reg := builtin.Registry()
	reg.Register("check", func(d server.Deps) (scope.Application, error) {
		var cfg settings
		if d.Decode != nil {
			if err := d.Decode(&cfg); err != nil {
				return nil, err
			}
		}
		if len(cfg.Addrs) == 0 || cfg.Prefix == "" {
			return nil, fmt.Errorf("check: settings need addrs and prefix")
		}
		rdb := goredis.NewUniversalClient(&goredis.UniversalOptions{Addrs: cfg.Addrs, IsClusterMode: len(cfg.Addrs) > 1})
		pid := strconv.Itoa(os.Getpid())
		return consumer.New(func() *checker { return &checker{rdb: rdb, prefix: cfg.Prefix, pid: pid} },
			consumer.OnMessage((*checker).Message)), nil
	})
	server.Main(reg, "check")
}
