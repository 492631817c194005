package server

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// WithVersion names the version the startup summary logs. Default: none.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// logStart logs what the server runs, before it connects anything: its
// version, layer and routes, then each adapter with its kind, protocols,
// mode and the address its section names.
func (s *Server) logStart() {
	s.mu.Lock()
	cfg, hosts := s.cfg, slices.Clone(s.adapters)
	protos := maps.Clone(s.protos)
	s.mu.Unlock()
	names := make([]string, 0, len(hosts))
	for _, h := range hosts {
		names = append(names, h.Name())
	}
	attrs := []any{"layer", layerSummary(cfg), "adapters", names, "routes", routeSummary(cfg)}
	if s.opts.version != "" {
		attrs = append([]any{"version", s.opts.version}, attrs...)
	}
	s.log.Info("botserver starting", attrs...)
	sections, _ := adapterSections(cfg, s.opts, s.reg)
	for _, h := range hosts {
		sec := sections[h.Name()]
		a := []any{"adapter", h.Name(), "protocols", protos[h.Name()]}
		if sec != nil {
			a = append(a, "kind", sec.Kind)
			for _, key := range []string{"mode", "addr", "listen"} {
				if v := sec.value(key); v != "" {
					a = append(a, key, v)
				}
			}
		}
		s.log.Info("adapter configured", a...)
	}
}

// layerSummary names the layer: its backend, and for Redis its mode and
// key prefix (never its URLs, which may hold a password).
func layerSummary(c *Config) string {
	if c.Layer.Backend != "redis" {
		return "memory"
	}
	r := c.redisConfig()
	return fmt.Sprintf("redis (mode %s, prefix %s)", cmp.Or(string(r.Mode), "single"), cmp.Or(r.Prefix, "asgi"))
}

// routeSummary says what serves each protocol, one string a protocol:
// "websocket: /ws/chat/ wschat, /ws/ping/ ping".
func routeSummary(c *Config) []string {
	var out []string
	for _, proto := range slices.Sorted(maps.Keys(c.Routes)) {
		out = append(out, proto+": "+describeRoute(c.Routes[proto]))
	}
	return out
}

func describeRoute(r *Route) string {
	if r == nil {
		return "(none)"
	}
	var parts []string
	switch {
	case r.Bot != "":
		parts = append(parts, r.Bot)
	case len(r.Paths) > 0:
		for _, p := range r.Paths {
			parts = append(parts, p.Path+" "+describeRoute(&p.Route))
		}
	case len(r.Commands) > 0:
		for _, c := range r.Commands {
			parts = append(parts, c.Command+" "+describeRoute(&c.Route))
		}
		if r.Fallback != nil {
			parts = append(parts, "else "+describeRoute(r.Fallback))
		}
	case len(r.Channels) > 0:
		for _, name := range slices.Sorted(maps.Keys(r.Channels)) {
			parts = append(parts, name+" "+describeRoute(r.Channels[name]))
		}
	}
	out := strings.Join(parts, ", ")
	if len(r.Middleware) > 0 {
		var mws []string
		for _, m := range r.Middleware {
			mws = append(mws, m.Name)
		}
		out = "[" + strings.Join(mws, " ") + "] " + out
	}
	if len(parts) > 1 {
		out = "(" + out + ")"
	}
	return out
}

// value returns the text of the section's top-level setting key, or "".
func (sec *AdapterSection) value(key string) string {
	if sec.node == nil {
		return ""
	}
	for i := 0; i+1 < len(sec.node.Content); i += 2 {
		if k, v := sec.node.Content[i], sec.node.Content[i+1]; k.Value == key && v.Kind == yaml.ScalarNode {
			return v.Value
		}
	}
	return ""
}

// botIdentity is implemented by adapters that know their bot's own
// account once connected (Telegram's getMe, Slack's auth.test).
type botIdentity interface {
	Bot() scope.User
}

// logConnected logs that the adapter of h serves: where it listens, and
// as which bot.
func (s *Server) logConnected(h *adapters.Host) {
	attrs := []any{"adapter", h.Name()}
	if a, ok := h.Adapter().(interface{ Addr() net.Addr }); ok && a.Addr() != nil {
		attrs = append(attrs, "addr", a.Addr().String())
	}
	if b, ok := h.Adapter().(botIdentity); ok {
		u := b.Bot()
		if u.Username != "" {
			attrs = append(attrs, "bot", "@"+u.Username)
		}
		if u.Name != "" {
			attrs = append(attrs, "bot_name", u.Name)
		}
		if u.ID != "" {
			attrs = append(attrs, "bot_id", u.ID)
		}
	}
	s.log.Info("adapter connected", attrs...)
}
