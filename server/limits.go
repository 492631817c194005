package server

import (
	"errors"
	"fmt"

	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/ratelimit"
	ratelimitredis "github.com/switchboard-bots/switchboard/ratelimit/redis"
)

// validateRateLimits checks layer.rate_limits: shared limits live in the
// Redis layer's Redis.
func (c *Config) validateRateLimits() error {
	switch c.Layer.RateLimits {
	case "", RateLimitsProcess:
		return nil
	case RateLimitsShared:
		if c.Layer.Backend != "redis" {
			return errors.New("layer.rate_limits: shared needs layer.backend: redis, where every process keeps them")
		}
		return nil
	}
	return fmt.Errorf("layer.rate_limits must be %s or %s, got %q", RateLimitsShared, RateLimitsProcess, c.Layer.RateLimits)
}

// sharedLimits reports whether adapters keep their rate limits in Redis.
func (c *Config) sharedLimits() bool {
	return c.Layer.Backend == "redis" && c.Layer.RateLimits != RateLimitsProcess
}

// newLimiter returns the Limiter that adapters keep their rate limits on
// with every process (layer.rate_limits: shared, the default on the Redis
// layer), on a Redis client of its own, and a layer that closes that
// client after l; or nil and l.
func newLimiter(cfg *Config, l layer.Layer) (ratelimit.Limiter, layer.Layer, error) {
	if !cfg.sharedLimits() {
		return nil, l, nil
	}
	// Each outbound call is one short script: a pool of the default's
	// size serves the calls that adapters make at once.
	c, prefix, err := redisClient(cfg, 0)
	if err != nil {
		return nil, l, err
	}
	lim, err := ratelimitredis.New(c, prefix)
	if err != nil {
		_ = c.Close()
		return nil, l, err
	}
	return lim, closingLayer{Layer: l, c: c}, nil
}
