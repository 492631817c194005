package server

import (
	"cmp"
	"log/slog"
	"maps"
	"net"
	"slices"

	"github.com/switchboard-bots/switchboard/cluster"
	"github.com/switchboard-bots/switchboard/ops/status"
)

// statusParts are the status page (ops/status) and what it counts: the
// events of every scope by adapter, and each adapter's last log lines.
type statusParts struct {
	traffic *status.Traffic
	logs    *status.LogTap
	page    *status.Status
	redact  func(string) string // masks the config's secrets
}

// newStatusParts makes the status page's counters, and the logger that
// feeds it each adapter's last line and problem, masked with the config's
// secrets.
func newStatusParts(cfg *Config, log *slog.Logger) (statusParts, *slog.Logger) {
	red := cfg.Redactor()
	tap := status.NewLogTap(status.LogTapOptions{Redact: red.String})
	return statusParts{traffic: status.NewTraffic(), logs: tap, redact: red.String}, slog.New(tap.Handler(log.Handler()))
}

// buildStatus makes the status page over the server's parts, for the ops
// listener to serve at /status.
func (s *Server) buildStatus() {
	l := status.Layer{Backend: cmp.Or(s.cfg.Layer.Backend, "memory"), Detail: "in this process's memory"}
	if l.Backend == "redis" {
		rc := s.cfg.redisConfig()
		l.Shared, l.Detail = true, "mode "+string(cmp.Or(rc.Mode, "single"))+", key prefix "+cmp.Or(rc.Prefix, "asgi")
	}
	src := status.Sources{
		Adapters: s.statusAdapters,
		Traffic:  s.st.traffic,
		Logs:     s.st.logs,
		Health:   s.ops.health,
		Slow:     s.slow,
		Metrics:  s.ops.reg,
		Layer:    l,
	}
	if s.intake != nil {
		total := cmp.Or(s.cfg.Layer.Intake.Partitions, cluster.DefaultPartitions)
		src.Partitions = func() ([]int, int) { return s.intake.Owned(), total }
	}
	s.st.page = status.New(src, status.Options{Logger: s.log, Redact: s.st.redact})
	s.ops.status = s.st.page
}

// statusAdapters describes the running adapters for the status page.
func (s *Server) statusAdapters() []status.Adapter {
	// The page is served while Reload may swap these: take them under the lock.
	s.mu.Lock()
	cfg, hosts := s.cfg, slices.Clone(s.adapters)
	protos, maxScopes := maps.Clone(s.protos), maps.Clone(s.maxScopes)
	s.mu.Unlock()
	out := make([]status.Adapter, 0, len(hosts))
	for _, h := range hosts {
		a := status.Adapter{Runner: h, Kind: h.Name(), Protocols: protos[h.Name()], MaxScopes: maxScopes[h.Name()]}
		if sec := cfg.Adapters[h.Name()]; sec != nil {
			a.Kind = sec.Kind
		}
		if l, ok := h.Adapter().(interface{ Addr() net.Addr }); ok {
			if addr := l.Addr(); addr != nil {
				a.Detail = "listening on " + addr.String()
			}
		}
		out = append(out, a)
	}
	return out
}
