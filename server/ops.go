package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchboard-bots/switchboard/ops"
)

// opsServer is the operations listener: /metrics, /healthz and /readyz.
type opsServer struct {
	reg     *prometheus.Registry
	metrics *ops.Metrics
	health  *ops.Health
	srv     *http.Server // nil without an ops address
	ln      net.Listener
}

func newOps(addr string) (*opsServer, error) {
	o := &opsServer{reg: prometheus.NewRegistry(), health: &ops.Health{}}
	o.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := ops.NewMetrics(o.reg)
	if err != nil {
		return nil, err
	}
	o.metrics = m
	if addr != "" {
		o.srv = &http.Server{Addr: addr, Handler: ops.Handler(o.reg, o.health), ReadHeaderTimeout: 5 * time.Second}
	}
	return o, nil
}

// listen binds the ops address, so that a port in use fails Run at once.
func (o *opsServer) listen() error {
	if o.srv == nil {
		return nil
	}
	ln, err := net.Listen("tcp", o.srv.Addr)
	if err != nil {
		return fmt.Errorf("ops listener: %w", err)
	}
	o.ln = ln
	go func() {
		if err := o.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = ln.Close()
		}
	}()
	return nil
}

// Addr returns the ops listener's address, or nil.
func (o *opsServer) Addr() net.Addr {
	if o.ln == nil {
		return nil
	}
	return o.ln.Addr()
}

// close stops the ops listener, waiting for requests in flight at most
// afterDeadline.
func (o *opsServer) close() {
	if o.srv == nil || o.ln == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), afterDeadline)
	defer cancel()
	if o.srv.Shutdown(ctx) != nil {
		_ = o.srv.Close()
	}
}
