package status

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-bots/switchboard/ops"
)

// Runner is an adapter as it runs: *adapters.Host satisfies it.
type Runner interface {
	// Name is the adapter's name, as in Scope.Adapter.
	Name() string
	// Len is the number of its live scopes.
	Len() int
	// Ready is closed once it serves: its listener bound, its first poll
	// made.
	Ready() <-chan struct{}
}

// Adapter is an adapter the page shows: how it runs, and what the config
// says of it.
type Adapter struct {
	Runner
	// Kind is the adapter kind (telegram), Protocols the scope types it
	// makes.
	Kind      string
	Protocols []string
	// MaxScopes is the bound on its live scopes; 0 for none.
	MaxScopes int
	// Detail is one line about it, such as where it listens. It must hold
	// no secret: the page shows it as it is.
	Detail string
}

// Checker runs readiness checks: *ops.Health satisfies it. A failure
// named like an adapter, or starting with its name and a space ("telegram
// handlers"), is that adapter's; the one named by Layer.Check is the
// layer's. A Checker that also has a Names() []string method, as
// *ops.Health does, has its passing checks listed too.
type Checker interface {
	Check(ctx context.Context) []ops.Failure
}

// SlowWatcher knows the handlers running long: *ops.SlowHandlers
// satisfies it.
type SlowWatcher interface {
	Running(n int) []ops.RunningHandler
	After() time.Duration
}

// Layer describes the channel layer.
type Layer struct {
	// Backend is "memory" or "redis"; Detail one line more, such as the
	// Redis mode and key prefix (never a URL: it may hold a password).
	Backend, Detail string
	// Shared is true when other processes may use the same layer.
	Shared bool
	// Check is the name of the layer's readiness check. Default: "layer".
	Check string
}

// Sources are what the page reads. Every field is optional: the page
// leaves out what it has no source for.
type Sources struct {
	// Adapters returns the adapters running now. A func, so that a
	// server that restarts an adapter shows the new one.
	Adapters func() []Adapter
	// Traffic counts events by adapter; its Middleware must wrap the
	// application the adapters serve.
	Traffic *Traffic
	// Logs taps the server's logger for each adapter's last line and
	// problem.
	Logs *LogTap
	// Health gives readiness, by check.
	Health Checker
	// Slow lists the handlers running long.
	Slow SlowWatcher
	// Metrics is the registry ops.Metrics registers on: the handler
	// latency histograms (switchboard_handler_seconds) and the layer's
	// errors (switchboard_layer_errors_total) are read from it.
	Metrics prometheus.Gatherer
	// Layer describes the channel layer.
	Layer Layer
	// Partitions, with a durable intake, returns the partitions of the
	// intake this process owns now and how many there are: conversations
	// belong to partitions, and partitions to one process at a time.
	Partitions func() (owned []int, total int)
}
