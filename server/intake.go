package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/cluster"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// validateIntake checks layer.intake: it needs the Redis layer on one
// deployment (single, sentinel or cluster).
func (c *Config) validateIntake() error {
	in := c.Layer.Intake
	if err := in.Validate(); err != nil {
		return prefixed("layer.intake", err)
	}
	if !in.Enabled {
		return nil
	}
	if c.Layer.Backend != "redis" {
		return errors.New("layer.intake.enabled needs layer.backend: redis")
	}
	if c.Layer.Redis.Mode == redis.ModeShards {
		return errors.New("layer.intake.enabled needs layer.redis.mode single, sentinel or cluster: a partition's keys must live on one deployment")
	}
	return nil
}

// newIntake returns the durable intake of cfg, on a Redis client of its
// own, and a layer that closes that client after l; or nil and l when
// layer.intake is not enabled.
func newIntake(cfg *Config, l layer.Layer, log *slog.Logger) (*cluster.Node, layer.Layer, error) {
	in := cfg.Layer.Intake
	if !in.Enabled {
		return nil, l, nil
	}
	// On Redis Cluster each owned partition holds a connection while it
	// waits for entries (on one Redis the Node holds one): room for all
	// of them, for the pipelines that carry the appends, reads and
	// acknowledgements, and for leases and membership.
	parts := in.Partitions
	if parts == 0 {
		parts = cluster.DefaultPartitions
	}
	c, prefix, err := redisClient(cfg, parts+32)
	if err != nil {
		return nil, l, err
	}
	node, err := cluster.New(c, prefix, in, cluster.WithLogger(log))
	if err != nil {
		_ = c.Close()
		return nil, l, err
	}
	return node, closingLayer{Layer: l, c: c}, nil
}

// redisClient returns a client of the layer's Redis of its own, with
// pool connections, and the layer's key prefix. In shards mode it reaches
// the first shard.
func redisClient(cfg *Config, pool int) (goredis.UniversalClient, string, error) {
	rc := cfg.redisConfig()
	if rc.Mode == redis.ModeShards && len(rc.Shards) > 0 {
		rc.URL = rc.Shards[0]
	}
	u, err := universalOptions(rc)
	if err != nil {
		return nil, "", err
	}
	u.PoolSize = pool
	u.PoolTimeout = 5 * time.Second
	return goredis.NewUniversalClient(u), redisPrefix(rc), nil
}

// universalOptions are the go-redis options of the layer's Redis: its
// URL's address and credentials, and its Sentinel or Cluster.
func universalOptions(rc redis.Config) (*goredis.UniversalOptions, error) {
	u := &goredis.UniversalOptions{}
	if rc.URL == "" {
		rc.URL = redis.DefaultURL
	}
	o, err := goredis.ParseURL(rc.URL)
	if err != nil {
		return nil, err
	}
	u.Addrs, u.Username, u.Password, u.DB, u.TLSConfig = []string{o.Addr}, o.Username, o.Password, o.DB, o.TLSConfig
	switch rc.Mode {
	case redis.ModeSentinel:
		u.MasterName, u.Addrs, u.SentinelPassword = rc.Sentinel.MasterName, rc.Sentinel.Addrs, rc.Sentinel.Password
	case redis.ModeCluster:
		u.IsClusterMode, u.Addrs = true, rc.Cluster.Addrs
	}
	return u, nil
}

// closingLayer closes a client of the layer's Redis (the intake's, the
// shared rate limits') after the layer.
type closingLayer struct {
	layer.Layer
	c goredis.UniversalClient
}

func (l closingLayer) Close() error { return errors.Join(l.Layer.Close(), l.c.Close()) }

// Unwrap implements layer.Unwrapper, so that the layer's optional
// capabilities (its one receiver per process) are found below.
func (l closingLayer) Unwrap() layer.Layer { return l.Layer }

var _ layer.Unwrapper = closingLayer{}

// journalOption makes a Host's intake durable when the server has one.
func (s *Server) journalOption() adapters.HostOption {
	if s.intake == nil {
		return nil
	}
	return adapters.WithJournal(s.intake)
}

// addIntakeCheck makes readiness wait for the durable intake to hold its
// share of the partitions, or to know it has none, and serves its metrics.
func (s *Server) addIntakeCheck() {
	if s.intake == nil {
		return
	}
	s.ops.reg.MustRegister(s.intake.Collector())
	s.ops.health.AddCheck("intake", func(context.Context) error {
		ch := s.intake.Ready()
		if ch == nil {
			return errors.New("not a member of the cluster yet")
		}
		select {
		case <-ch:
			return nil
		default:
			return fmt.Errorf("taking its share of the partitions")
		}
	})
}
