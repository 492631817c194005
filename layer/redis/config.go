package redis

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/layer"
)

// Mode names how the layer reaches Redis. It is never inferred from the
// other fields, so that a typo in a list of addresses cannot turn a
// Sentinel deployment into a Cluster one.
type Mode string

const (
	// ModeSingle uses the one server named by Config.URL.
	ModeSingle Mode = "single"
	// ModeShards spreads channels and groups over the servers named by
	// Config.Shards, by a consistent hash of their names.
	ModeShards Mode = "shards"
	// ModeSentinel finds the master through Redis Sentinel.
	ModeSentinel Mode = "sentinel"
	// ModeCluster uses Redis Cluster.
	ModeCluster Mode = "cluster"
)

// Defaults for Config.
const (
	DefaultURL       = "redis://127.0.0.1:6379/0"
	DefaultPrefix    = "asgi"
	DefaultBlockTime = time.Second
	// DefaultReceiveConnections bounds the connections kept for blocking
	// receives; see Config.ReceiveConnections.
	DefaultReceiveConnections = 1000
)

// Config configures a Layer. The zero value connects to a local Redis
// with channels_redis' defaults.
type Config struct {
	// Mode is one of single, shards, sentinel and cluster. Default:
	// single.
	Mode Mode `yaml:"mode"`

	// URL is the server of single mode, as redis://[user:pass@]host:port/db
	// or rediss:// for TLS. In sentinel and cluster modes its user,
	// password and TLS settings apply to every node. Default:
	// redis://127.0.0.1:6379/0 in single mode, unused otherwise.
	URL string `yaml:"url"`

	// Shards are the servers of shards mode, as URLs. Every process must
	// list the same shards in the same order: the hash maps a name to a
	// position in the list. Add shards at the end; that moves the fewest
	// names. Default: none.
	Shards []string `yaml:"shards"`

	// Hash is how shards mode maps a group or channel name to a shard:
	// crc32, channels_redis' own consistent hash, so that a Django
	// Channels site listing the same shards in the same order finds
	// everything where Switchboard puts it; or jump, jump consistent
	// hash over xxhash64, which moves fewer names when a shard is added
	// but is unknown to channels_redis. Default: crc32.
	Hash Hash `yaml:"hash"`

	// Sentinel locates the master in sentinel mode.
	Sentinel SentinelConfig `yaml:"sentinel"`

	// Cluster lists seed nodes in cluster mode.
	Cluster ClusterConfig `yaml:"cluster"`

	// Prefix starts every key the layer uses, as channels_redis' prefix
	// does; processes that talk to each other use the same one, and
	// Flush deletes every key that starts with it. Default: "asgi".
	Prefix string `yaml:"prefix"`

	// EncryptionKeys, when set, encrypt every payload with AES-256-GCM
	// under a key derived from the first entry; all entries are tried
	// when decrypting, so a new key is rolled out by putting it first and
	// an old one retired by removing it once its messages have expired.
	// Encrypted payloads are not readable by channels_redis. Default:
	// none (payloads in clear, as channels_redis writes them).
	EncryptionKeys []string `yaml:"encryption_keys"`

	// BlockTime bounds each blocking pop a receiver sends to Redis, in
	// whole seconds, the unit go-redis sends. Redis clients cannot abandon
	// a blocking call, so this is how long Close may wait for receive
	// loops to wind down; Receive itself returns at once. Default: 1
	// second.
	BlockTime time.Duration `yaml:"block_time"`

	// ReceiveConnections bounds the connections to each server held by
	// blocking receives: one per channel received in this process, plus
	// one per prefix of process-local channels. With several shards and
	// hash crc32, each of those reads every server. Default: 1000.
	ReceiveConnections int `yaml:"receive_connections"`

	// ExactCapacity counts every send before its add, in one script, so
	// that no channel ever holds more than its capacity, however many
	// processes send to it. That costs four Redis commands per send,
	// where without it a busy channel costs about one and a quiet one
	// two; see the package documentation. Default: false.
	ExactCapacity bool `yaml:"exact_capacity"`

	// Capacity, ChannelCapacity, Expiry and GroupExpiry are the settings
	// every layer shares, with their defaults; see layer.Config.
	layer.Config `yaml:",inline"`
}

// SentinelConfig locates a master through Redis Sentinel.
type SentinelConfig struct {
	// MasterName is the name the sentinels know the master by. Required
	// in sentinel mode.
	MasterName string `yaml:"master_name"`
	// Addrs are sentinels as host:port. Required in sentinel mode.
	Addrs []string `yaml:"addrs"`
	// Password authenticates to the sentinels themselves. Default: none.
	Password string `yaml:"password"`
}

// ClusterConfig lists the seed nodes of a Redis Cluster.
type ClusterConfig struct {
	// Addrs are nodes as host:port; the rest are discovered. Required in
	// cluster mode.
	Addrs []string `yaml:"addrs"`
}

// prefixForbidden are the characters a prefix must not contain: glob
// characters would make Flush's key pattern match more than the prefix,
// and braces would defeat the hash tags of cluster mode.
const prefixForbidden = "*?[]\\{} \t\r\n"

// Validate reports every setting that can never work. It does not dial
// Redis and does not fill defaults.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	checkURL := func(what, u string) {
		if _, err := goredis.ParseURL(u); err != nil {
			// url.Error repeats the whole URL, password included, and
			// its reason may quote a piece of the password: with a
			// password in u, the reason is not shown.
			if ue, ok := errors.AsType[*url.Error](err); ok {
				err = ue.Err
			}
			if r := redactURL(u); r != u {
				bad("%s %q does not parse as a Redis URL (user:password@host:port/db; percent-encode special characters in the password)", what, r)
			} else {
				bad("%s %q: %v", what, u, err)
			}
		}
	}
	switch c.Mode {
	case "", ModeSingle:
		if c.URL != "" {
			checkURL("url", c.URL)
		}
	case ModeShards:
		if len(c.Shards) == 0 {
			bad("shards mode needs at least one shard")
		}
		for _, u := range c.Shards {
			checkURL("shard", u)
		}
	case ModeSentinel:
		if c.Sentinel.MasterName == "" {
			bad("sentinel mode needs sentinel.master_name")
		}
		if len(c.Sentinel.Addrs) == 0 {
			bad("sentinel mode needs sentinel.addrs")
		}
	case ModeCluster:
		if len(c.Cluster.Addrs) == 0 {
			bad("cluster mode needs cluster.addrs")
		}
	default:
		bad("unknown mode %q, want single, shards, sentinel or cluster", c.Mode)
	}
	if c.Mode != ModeShards && len(c.Shards) > 0 {
		bad("shards are set but mode is %q, not shards", c.Mode)
	}
	if _, err := c.Hash.place(); err != nil {
		bad("%v", err)
	} else if c.Hash != "" && c.Mode != ModeShards {
		bad("hash is set but mode is %q, not shards", c.Mode)
	}
	if c.URL != "" && (c.Mode == ModeSentinel || c.Mode == ModeCluster) {
		checkURL("url", c.URL)
	}
	if strings.ContainsAny(c.Prefix, prefixForbidden) {
		bad("prefix %q must not contain any of %q", c.Prefix, prefixForbidden)
	}
	for i, k := range c.EncryptionKeys {
		if k == "" {
			bad("encryption key %d is empty", i)
		}
	}
	if c.BlockTime < 0 || c.BlockTime%time.Second != 0 {
		bad("block_time must be a whole number of seconds, got %s", c.BlockTime)
	}
	if c.ReceiveConnections < 0 {
		bad("receive_connections must not be negative, got %d", c.ReceiveConnections)
	}
	if err := c.Config.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Mode == "" {
		c.Mode = ModeSingle
	}
	if c.Mode == ModeSingle && c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.BlockTime == 0 {
		c.BlockTime = DefaultBlockTime
	}
	if c.ReceiveConnections == 0 {
		c.ReceiveConnections = DefaultReceiveConnections
	}
	c.Config = c.Config.WithDefaults()
	return c
}

// redactURL returns u with the password of its userinfo masked, whether
// or not u parses: a URL that fails to parse is printed in the error, and
// its password must not be.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	at := strings.LastIndex(host, "@")
	if at < 0 {
		return u
	}
	user, _, hasPass := strings.Cut(host[:at], ":")
	if !hasPass {
		user = "" // a lone userinfo may be a password: redis://secret@host
	}
	masked := "[redacted]"
	if user != "" {
		masked = user + ":[redacted]"
	}
	return scheme + "://" + masked + rest[at:]
}
