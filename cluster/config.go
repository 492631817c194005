package cluster

import (
	"errors"
	"fmt"
	"time"
)

// Config sizes and times a Node. The zero value is usable: every zero
// field takes the default its comment names. Every process of a cluster
// must use the same Partitions.
type Config struct {
	// Enabled turns the durable intake on, with the Redis layer. Default:
	// false.
	Enabled bool `yaml:"enabled"`
	// Partitions is how many streams the intake is split into, and so the
	// most processes that can share the work. Default: 64. Changing it
	// moves conversations between partitions: stop every process first.
	Partitions int `yaml:"partitions"`
	// Lease is how long a partition stays with a process that stopped
	// renewing it (a killed one): its conversations resume on another
	// process within about 1⅓ × Lease. Renewals happen every third of it.
	// Default: 10s.
	Lease time.Duration `yaml:"lease"`
	// DedupeTTL is how long a platform's event id (adapters.Unique) is
	// remembered, cluster-wide, to drop its retries. Default: 1h.
	DedupeTTL time.Duration `yaml:"dedupe_ttl"`
	// Batch is how many entries an owner reads from a partition at once.
	// Default: 128.
	Batch int `yaml:"batch"`
}

// Defaults for Config.
const (
	DefaultPartitions = 64
	DefaultLease      = 10 * time.Second
	DefaultDedupeTTL  = time.Hour
	DefaultBatch      = 128
)

// ErrConfig is wrapped by the errors of Config.Validate.
var ErrConfig = errors.New("cluster: invalid config")

// Validate reports fields that can never work. It does not fill defaults.
func (c Config) Validate() error {
	var errs []error
	if c.Partitions < 0 || c.Partitions > 16384 {
		errs = append(errs, fmt.Errorf("%w: partitions must be between 1 and 16384, got %d", ErrConfig, c.Partitions))
	}
	if c.Lease < 0 || (c.Lease > 0 && c.Lease < 30*time.Millisecond) {
		errs = append(errs, fmt.Errorf("%w: lease must be at least 30ms, got %v", ErrConfig, c.Lease))
	}
	if c.DedupeTTL < 0 {
		errs = append(errs, fmt.Errorf("%w: dedupe_ttl must not be negative, got %v", ErrConfig, c.DedupeTTL))
	}
	if c.Batch < 0 {
		errs = append(errs, fmt.Errorf("%w: batch must not be negative, got %d", ErrConfig, c.Batch))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.Lease == 0 {
		c.Lease = DefaultLease
	}
	if c.DedupeTTL == 0 {
		c.DedupeTTL = DefaultDedupeTTL
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	return c
}
