package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// factStore keeps the facts of conversations that use their channels.
type factStore interface {
	Keep(ctx context.Context, channel string, facts []byte, ttl time.Duration) error
	// Load returns the facts kept for channel, or nil.
	Load(ctx context.Context, channel string) ([]byte, error)
}

// memoryFacts keeps facts in the process, with the layer: both go with it.
type memoryFacts struct {
	mu    sync.Mutex
	m     map[string]keptFacts
	swept int // len(m) after the last sweep
}

type keptFacts struct {
	facts   []byte
	expires time.Time
}

func (f *memoryFacts) Keep(_ context.Context, channel string, facts []byte, ttl time.Duration) error {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[channel] = keptFacts{facts: facts, expires: now.Add(ttl)}
	if len(f.m) > 2*f.swept+64 {
		// Expired facts go once the map doubled: linear work, amortised.
		for k, v := range f.m {
			if !now.Before(v.expires) {
				delete(f.m, k)
			}
		}
		f.swept = len(f.m)
	}
	return nil
}

func (f *memoryFacts) Load(_ context.Context, channel string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[channel]
	if !ok || !time.Now().Before(v.expires) {
		return nil, nil
	}
	return v.facts, nil
}

// redisFacts keeps facts in Redis, one key per conversation with the
// membership's expiry: <prefix>:conv:<channel>.
type redisFacts struct {
	c      goredis.UniversalClient
	prefix string
}

func (f redisFacts) Keep(ctx context.Context, channel string, facts []byte, ttl time.Duration) error {
	if err := f.c.Set(ctx, f.prefix+channel, facts, ttl).Err(); err != nil {
		return fmt.Errorf("keep facts of %s: %w", channel, err)
	}
	return nil
}

func (f redisFacts) Load(ctx context.Context, channel string) ([]byte, error) {
	b, err := f.c.Get(ctx, f.prefix+channel).Bytes()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("load facts of %s: %w", channel, err)
	}
	return b, nil
}
