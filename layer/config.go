package layer

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"time"
)

// Config bounds and times a channel layer; every backend reads the same
// one, so a deployment can change backends without rewriting its settings.
// The zero value is usable: every zero field takes the default its comment
// names.
type Config struct {
	// Capacity is the number of unexpired messages a channel holds before
	// sends to it fail with ErrChannelFull. Default: 100.
	Capacity int `yaml:"capacity"`

	// ChannelCapacity overrides Capacity for the channels whose names
	// match a pattern, such as {"http.request": 200, "websocket.send*":
	// 20}. Patterns use path.Match syntax ('*', '?', '[a-z]'). A key equal
	// to the channel name wins; otherwise the longest matching pattern
	// wins, and among patterns of the same length the one that sorts
	// first. Default: none.
	ChannelCapacity map[string]int `yaml:"channel_capacity"`

	// Expiry is how long a message waits to be received before it is
	// dropped. Default: 60 seconds.
	Expiry time.Duration `yaml:"expiry"`

	// GroupExpiry is how long a group membership lasts unless GroupAdd
	// refreshes it, so that members left behind by a crashed process
	// lapse. Default: 24 hours.
	GroupExpiry time.Duration `yaml:"group_expiry"`
}

// Defaults for Config.
const (
	DefaultCapacity    = 100
	DefaultExpiry      = 60 * time.Second
	DefaultGroupExpiry = 24 * time.Hour
)

// Validate reports fields that can never work. It does not fill defaults.
func (c Config) Validate() error {
	var errs []error
	if c.Capacity < 0 {
		errs = append(errs, fmt.Errorf("layer: capacity must not be negative, got %d", c.Capacity))
	}
	// Sorted so that errors come in a stable order.
	for _, pattern := range slices.Sorted(maps.Keys(c.ChannelCapacity)) {
		if _, err := path.Match(pattern, ""); err != nil {
			errs = append(errs, fmt.Errorf("layer: channel_capacity pattern %q: %w", pattern, err))
		}
		if n := c.ChannelCapacity[pattern]; n <= 0 {
			errs = append(errs, fmt.Errorf("layer: channel_capacity for %q must be positive, got %d", pattern, n))
		}
	}
	if c.Expiry < 0 {
		errs = append(errs, fmt.Errorf("layer: expiry must not be negative, got %s", c.Expiry))
	}
	if c.GroupExpiry < 0 {
		errs = append(errs, fmt.Errorf("layer: group_expiry must not be negative, got %s", c.GroupExpiry))
	}
	return errors.Join(errs...)
}

// WithDefaults returns c with every zero field set to its default. The
// ChannelCapacity map is copied, so a backend that keeps the result is not
// affected when the caller later changes its own map.
func (c Config) WithDefaults() Config {
	c.setDefaults()
	c.ChannelCapacity = maps.Clone(c.ChannelCapacity)
	return c
}

func (c *Config) setDefaults() {
	if c.Capacity == 0 {
		c.Capacity = DefaultCapacity
	}
	if c.Expiry == 0 {
		c.Expiry = DefaultExpiry
	}
	if c.GroupExpiry == 0 {
		c.GroupExpiry = DefaultGroupExpiry
	}
}

// CapacityFor returns the capacity of channel: the ChannelCapacity entry
// chosen by the rule documented there, or else Capacity or its default.
// Patterns are matched against the whole name, process-local part
// included. The cost grows with the number of patterns, so backends look a
// channel's capacity up when they create the channel, not on every send.
func (c Config) CapacityFor(channel string) int {
	if n, ok := c.ChannelCapacity[channel]; ok {
		return n
	}
	best, bestN := "", 0
	for pattern, n := range c.ChannelCapacity {
		if len(pattern) < len(best) || len(pattern) == len(best) && bestN != 0 && pattern > best {
			continue
		}
		if ok, _ := path.Match(pattern, channel); ok {
			best, bestN = pattern, n
		}
	}
	if bestN != 0 {
		return bestN
	}
	if c.Capacity == 0 {
		return DefaultCapacity
	}
	return c.Capacity
}
