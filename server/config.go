package server

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/cluster"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/redis"
	"github.com/switchboard-bots/switchboard/ops/logs"
	"github.com/switchboard-bots/switchboard/scope"
	"go.yaml.in/yaml/v3"
)

// Config is a botserver configuration file. Every section is optional; the
// zero Config is the embedded default minus its adapters (see Default).
type Config struct {
	Log   LogConfig   `yaml:"log"`
	Layer LayerConfig `yaml:"layer"`
	// Scopes holds the defaults for every adapter's conversations; an
	// adapter's own scopes section overrides them field by field.
	Scopes scope.Config `yaml:"scopes"`

	// Adapters holds the adapters' sections, by name: every top-level key
	// that is not one of the sections above is an adapter's, built by the
	// factory the Registry holds for its kind (websocket:, telegram:,
	// slack:, console: and worker: with package builtin's registry).
	// Parse fills it; see AdapterSection.
	Adapters map[string]*AdapterSection `yaml:"-"`

	// Routes maps a protocol (a scope type: "websocket", "http",
	// "telegram", "slack", "console", "channel" with the built-in
	// adapters) to what serves its scopes.
	Routes map[string]*Route `yaml:"routes"`

	// Bots holds bots' own settings, by bot name: a bot's factory decodes
	// its entry with Deps.Decode (bots: {bridge: {bridges: [...]}}).
	Bots map[string]yaml.Node `yaml:"bots"`

	Ops      OpsConfig      `yaml:"ops"`
	Shutdown ShutdownConfig `yaml:"shutdown"`

	// name is the file the config came from; lines remembers where each
	// section started, for errors found after decoding.
	name  string
	lines map[string]int
	// secrets are the values of the file's secret settings (tokens,
	// passwords, keys), masked in every message botserver prints.
	secrets []string
}

// Redactor returns what masks the config's secrets in text: the values of
// its secret settings (a key naming a token, secret, password or key), the
// password of every URL with credentials, and anything shaped like a
// Telegram bot token. botserver passes every message it prints, and every
// log line, through it.
func (c *Config) Redactor() logs.Redactor {
	if c == nil {
		return logs.Redactor{}
	}
	return logs.Redactor{}.With(c.secrets...)
}

// LogConfig sets up structured logs.
type LogConfig struct {
	// Format is "text" (default) or "json".
	Format string `yaml:"format"`
	// Level is "debug", "info" (default), "warn" or "error".
	Level string `yaml:"level"`
	// Throttle bounds repeated lines, so that traffic (an attacker's
	// rejected requests, a bug's panics) cannot make the log grow with
	// it.
	Throttle ThrottleConfig `yaml:"throttle"`
}

// ThrottleConfig bounds how many lines of one message botserver writes:
// the first Burst per Interval, then one "suppressed K similar lines" per
// message and interval. A panic's stack is written once per distinct
// stack; later panics of the same stack carry its stack_id.
type ThrottleConfig struct {
	// Burst is how many lines of one message pass per interval. Default:
	// 10. A negative Burst turns throttling off.
	Burst int `yaml:"burst"`
	// Interval is the window Burst counts in. Default: 1m.
	Interval time.Duration `yaml:"interval"`
}

// LayerConfig chooses and sizes the channel layer.
type LayerConfig struct {
	// Backend is "memory" (default: one process) or "redis" (several
	// processes, or a Django Channels site, sharing one Redis).
	Backend string `yaml:"backend"`
	// Capacity, channel_capacity, expiry and group_expiry, for either
	// backend.
	layer.Config `yaml:",inline"`
	// Redis says where Redis is, with backend: redis. Its own capacity
	// and expiry keys are ignored: the ones above apply.
	Redis redis.Config `yaml:"redis"`
	// Intake, with backend: redis and enabled: true, makes the processes
	// on that Redis serve as one: a durable intake with one owner per
	// conversation (package cluster).
	Intake cluster.Config `yaml:"intake"`
	// RateLimits says where adapters keep their platforms' rate limits:
	// "shared" keeps them in Redis for every process on it (the default
	// with backend: redis), "process" in each process alone (the only
	// choice, and the default, with backend: memory).
	RateLimits string `yaml:"rate_limits"`
}

// Where adapters keep their platforms' rate limits (layer.rate_limits).
const (
	RateLimitsShared  = "shared"
	RateLimitsProcess = "process"
)

// redisConfig is the Redis layer's config with the layer section's sizes.
func (c *Config) redisConfig() redis.Config {
	rc := c.Layer.Redis
	rc.Config = c.Layer.Config
	return rc
}

// AdapterSection is the config file's section for an adapter that a
// factory of the Registry builds. Its key is the adapter's name; its kind
// is the "kind" key, or else the key itself, so that
//
//	telegram: {token: ...}
//
// runs one adapter of kind telegram named telegram, and
//
//	support: {kind: telegram, token: ...}
//
// runs a second one named support. The keys kind, enabled, scopes and
// timers are
// the server's; the factory decodes the rest (adapters.Setup.Decode).
type AdapterSection struct {
	// Kind is the registered adapter kind that builds the section.
	Kind string
	// Enabled defaults to true when the section is present.
	Enabled *bool
	// Scopes overrides the top-level scopes defaults field by field.
	Scopes scope.Config
	// Timers runs timers for the adapter's conversations; nil: none.
	Timers *TimersConfig

	node *yaml.Node // the section without kind, enabled, scopes and timers
}

// OpsConfig is the operations listener: metrics and health.
type OpsConfig struct {
	// Addr is where /metrics (Prometheus), /healthz (the process runs),
	// /readyz (every adapter is up) and the status page (/status and
	// /status.json, package ops/status) are served, e.g.
	// "127.0.0.1:9090". Default: "" (no ops listener).
	Addr string `yaml:"addr"`
	// SlowHandler is how long a handler may run before it is reported:
	// a "handler running long" warning naming the adapter, conversation
	// key and event type, the switchboard_handlers_slow gauge, and
	// /readyz, which reports an adapter not ready while such handlers
	// hold 90% of its max_scopes. Default: 30s.
	SlowHandler time.Duration `yaml:"slow_handler"`
	// Pprof serves Go's runtime profiles (net/http/pprof: heap,
	// goroutine, CPU, trace, ...) under /debug/pprof/ on the ops
	// listener. They describe the process's insides and a CPU profile or
	// trace costs CPU while it runs: keep the ops listener on loopback
	// when this is on. Default: false.
	Pprof bool `yaml:"pprof"`
	// Listener bounds the ops listener on its own, so that /healthz keeps
	// answering whatever the adapters' listeners endure (see
	// adapters.ListenConfig). Defaults: max_conns 32,
	// max_conns_per_client 16, and adapters.ListenConfig's for the rest.
	Listener adapters.ListenConfig `yaml:"listener"`
	// BodyBudget bounds the bytes of request bodies that every listener of
	// the process holds in memory at once; past it a request is answered
	// 503 before its body is read. Default: 64 MiB.
	BodyBudget int64 `yaml:"body_budget"`
}

// ShutdownConfig bounds a graceful stop.
type ShutdownConfig struct {
	// Grace is how long SIGINT/SIGTERM waits for conversations to drain
	// and end before the process exits anyway. Default: 10s.
	Grace time.Duration `yaml:"grace"`
}

// DefaultGrace is ShutdownConfig.Grace's default.
const DefaultGrace = 10 * time.Second

func enabled(p *bool) bool { return p == nil || *p }

// Validate checks what can be checked of the file alone, given the
// registry: the server's own sections, that every adapter section names a
// registered kind and valid scopes, and that every route names registered
// bots and middleware. An adapter's own settings are its factory's to
// check: New and Check build the adapters. Errors name the file and line of
// the section they concern when the config came from a file.
func (c *Config) Validate(reg *Registry) error {
	var errs []error
	add := func(section string, err error) {
		if err != nil {
			errs = append(errs, c.errorAt(section, err))
		}
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		add("log", fmt.Errorf("log.format must be text or json, got %q", c.Log.Format))
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		add("log", err)
	}
	add("ops", c.Ops.Listener.Check("ops.listener"))
	if c.Ops.BodyBudget < 0 {
		add("ops", fmt.Errorf("ops.body_budget must not be negative, got %d", c.Ops.BodyBudget))
	}
	switch c.Layer.Backend {
	case "", "memory":
	case "redis":
		add("layer", prefixed("layer.redis", c.redisConfig().Validate()))
	default:
		add("layer", fmt.Errorf("layer.backend must be memory or redis, got %q", c.Layer.Backend))
	}
	add("layer", c.Layer.Config.Validate())
	add("layer", c.validateIntake())
	add("layer", c.validateRateLimits())
	errs = append(errs, c.fieldErrors("scopes", c.Scopes.Validate())...)
	if c.Ops.SlowHandler < 0 {
		add("ops", fmt.Errorf("ops.slow_handler must not be negative"))
	}
	if c.Log.Throttle.Interval < 0 {
		add("log", fmt.Errorf("log.throttle.interval must not be negative"))
	}
	if c.Shutdown.Grace < 0 {
		add("shutdown", fmt.Errorf("shutdown.grace must not be negative"))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Adapters)) {
		errs = append(errs, c.validateSection(name, c.Adapters[name], reg)...)
	}
	if len(c.Routes) == 0 {
		add("routes", errors.New("routes: no routes; name at least one protocol and the bot that serves it"))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Bots)) {
		if _, ok := reg.Lookup(name); !ok {
			errs = append(errs, c.errorAt("bots."+name, fmt.Errorf("no bot named %q (registered: %s)", name, strings.Join(reg.Names(), ", "))))
		}
	}
	for proto, r := range c.Routes {
		if r == nil {
			errs = append(errs, c.errorAt("routes."+proto, fmt.Errorf("routes.%s is empty", proto)))
			continue
		}
		errs = append(errs, r.validate(c.file(), "routes."+proto, reg, c.lines)...)
	}
	return errors.Join(errs...)
}

func prefixed(section string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", section, err)
}

func mergeScopes(own, def scope.Config) scope.Config {
	if own.IdleTimeout == 0 {
		own.IdleTimeout = def.IdleTimeout
	}
	if own.MaxScopes == 0 {
		own.MaxScopes = def.MaxScopes
	}
	if own.InboxSize == 0 {
		own.InboxSize = def.InboxSize
	}
	if own.ShutdownParallelism == 0 {
		own.ShutdownParallelism = def.ShutdownParallelism
	}
	if own.Workers == 0 {
		own.Workers = def.Workers
	}
	if own.StallAfter == 0 {
		own.StallAfter = def.StallAfter
	}
	return own
}

// validateSection checks what can be checked of an adapter section
// without its factory: that its kind is registered, and its scopes.
func (c *Config) validateSection(name string, sec *AdapterSection, reg *Registry) []error {
	if reg == nil {
		return nil
	}
	var errs []error
	if _, ok := reg.adapters[sec.Kind]; !ok {
		var err error
		if sec.Kind == name {
			known := slices.Concat(slices.Collect(maps.Keys(yamlFields(reflect.TypeFor[Config]()))), reg.AdapterKinds())
			err = fmt.Errorf("%w %q: not a section, nor a registered adapter kind (adapter kinds: %s)%s",
				ErrUnknownKey, name, orNone(reg.AdapterKinds()), didYouMean(name, known))
		} else {
			err = fmt.Errorf("kind %q is not a registered adapter kind (adapter kinds: %s)%s",
				sec.Kind, orNone(reg.AdapterKinds()), didYouMean(sec.Kind, reg.AdapterKinds()))
		}
		errs = append(errs, c.errorAt(name, err))
	}
	if enabled(sec.Enabled) {
		// The section's own scopes only: what it inherits from the
		// top-level scopes is reported there, once.
		errs = append(errs, c.fieldErrors(name+".scopes", sec.Scopes.Validate())...)
		if err := sec.Timers.Validate(); err != nil {
			errs = append(errs, c.errorAt(name+".timers", prefixed(name+".timers", err)))
		}
	}
	return errs
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// NewAdapterSection returns a section of kind whose settings are v, for a
// Config built in code (see Default): v is encoded as YAML, and the
// factory decodes it as it would decode the file's section. Enabled and
// Scopes are the returned section's fields.
func NewAdapterSection(kind string, settings any) (*AdapterSection, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if settings != nil {
		if err := n.Encode(settings); err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
	}
	return &AdapterSection{Kind: kind, node: n}, nil
}
