package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/ops"
	"github.com/switchboard-bots/switchboard/ops/status"
)

// opsServer is the operations listener: /metrics, /healthz, /readyz and
// /status.
type opsServer struct {
	reg     *prometheus.Registry
	metrics *ops.Metrics
	health  *ops.Health
	addr    string // "" for no ops listener
	cfg     adapters.ListenConfig
	log     *slog.Logger
	srv     *adapters.HTTPServer // set by listen
	pprof   bool                 // serve Go's runtime profiles too
	status  *status.Status       // the status page; nil for none
}

// Defaults of the ops listener's own budget: a few scrapers and probes
// need no more, and a flood on it cannot take what the adapters need.
const (
	opsMaxConns          = 32
	opsMaxConnsPerClient = 16
)

func newOps(c OpsConfig, log *slog.Logger) (*opsServer, error) {
	lc := c.Listener
	if lc.MaxConns == 0 {
		lc.MaxConns = opsMaxConns
	}
	if lc.MaxConnsPerClient == 0 {
		lc.MaxConnsPerClient = opsMaxConnsPerClient
	}
	o := &opsServer{reg: prometheus.NewRegistry(), health: &ops.Health{}, addr: c.Addr, cfg: lc.Defaults(), log: log}
	o.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := ops.NewMetrics(o.reg)
	if err != nil {
		return nil, err
	}
	o.metrics = m
	return o, nil
}

// listen binds the ops address, so that a port in use fails Run at once.
func (o *opsServer) listen() error {
	if o.addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("ops listener: %w", err)
	}
	h := ops.Handler(o.reg, o.health)
	if o.pprof {
		h = withPprof(h)
	}
	if o.status != nil {
		h = o.status.Wrap(h)
	}
	o.srv = adapters.NewHTTPServer(ln, h, o.cfg, adapters.ListenName("ops"),
		adapters.ListenLogger(o.log), adapters.ListenReport(adapters.NewReport(o.metrics, "ops")))
	go func() {
		if err := o.srv.Serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = ln.Close()
		}
	}()
	return nil
}

// Addr returns the ops listener's address, or nil.
func (o *opsServer) Addr() net.Addr {
	if o.srv == nil {
		return nil
	}
	return o.srv.Addr()
}

// close stops the ops listener, waiting for requests in flight at most
// afterDeadline.
func (o *opsServer) close() {
	if o.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), afterDeadline)
	defer cancel()
	o.srv.Shutdown(ctx)
}
