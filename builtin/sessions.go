package builtin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/server"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
	sessionredis "github.com/switchboard-bots/switchboard/session/redis"
)

// SessionSettings are the settings of the sessions middleware.
type SessionSettings struct {
	// Store is where sessions live: "memory" (the process's own, lost on
	// exit) or "redis" (kept across restarts, shared by every process on
	// the same Redis and prefix). Default: memory.
	Store string `yaml:"store"`
	// URL is the Redis to keep them in, for store: redis. Required there.
	URL string `yaml:"url"`
	// Prefix is the prefix of the Redis keys. Default:
	// "switchboard.session.".
	Prefix string `yaml:"prefix"`
	// TTL is how long a session is kept after its last change. Default:
	// 720h (30 days); negative: until deleted.
	TTL time.Duration `yaml:"ttl"`
}

// sessions builds {sessions: {store: redis, url: ..., prefix: ..., ttl: ...}}
// or "sessions" alone (in memory): the session store of the route's bots
// (session.Middleware).
func sessions(s server.MiddlewareSetup) (router.Middleware, error) {
	var set SessionSettings
	if err := s.Decode(&set); err != nil {
		return nil, err
	}
	var opts []session.Option
	switch {
	case set.TTL < 0:
		opts = append(opts, session.WithTTL(0))
	case set.TTL > 0:
		opts = append(opts, session.WithTTL(set.TTL))
	}
	switch set.Store {
	case "", "memory":
		if set.URL != "" || set.Prefix != "" {
			return nil, errors.New("url and prefix are settings of store: redis")
		}
		return router.Middleware(session.Middleware(memory.New(), opts...)), nil
	case "redis":
		if set.URL == "" {
			return nil, errors.New("store: redis needs url: redis://HOST:PORT/DB")
		}
		o, err := goredis.ParseURL(set.URL)
		if err != nil {
			return nil, fmt.Errorf("url: %w", err)
		}
		var ropts []sessionredis.Option
		if set.Prefix != "" {
			ropts = append(ropts, sessionredis.WithPrefix(set.Prefix))
		}
		st := &lazyRedis{make: func() session.Store { return sessionredis.New(goredis.NewClient(o), ropts...) }}
		return router.Middleware(session.Middleware(st, opts...)), nil
	default:
		return nil, fmt.Errorf("store: %q is not a session store (memory or redis)", set.Store)
	}
}

// lazyRedis makes its Redis client on first use, so that building the
// middleware (as check does) starts none of the client's goroutines. The
// client lives as long as the process.
type lazyRedis struct {
	once sync.Once
	make func() session.Store
	st   session.Store
}

func (l *lazyRedis) store() session.Store {
	l.once.Do(func() { l.st = l.make() })
	return l.st
}

func (l *lazyRedis) Load(ctx context.Context, key string) (session.Record, error) {
	return l.store().Load(ctx, key)
}

func (l *lazyRedis) Save(ctx context.Context, key string, data []byte, version uint64, ttl time.Duration) (uint64, error) {
	return l.store().Save(ctx, key, data, version, ttl)
}

func (l *lazyRedis) Delete(ctx context.Context, key string) error { return l.store().Delete(ctx, key) }
