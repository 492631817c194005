package status

import (
	"context"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultInterval = time.Second
	DefaultHistory  = 120 // two minutes of samples at the default interval
	DefaultWindow   = 10  // latency percentiles over the last ten samples
	DefaultMaxSlow  = 10
)

// Options configure a Status.
type Options struct {
	// Interval is how often Run samples. Default: DefaultInterval.
	Interval time.Duration
	// History is how many samples of event rates the charts show.
	// Default: DefaultHistory.
	History int
	// Window is over how many samples the latency percentiles are taken.
	// Default: DefaultWindow.
	Window int
	// MaxSlow is how many running handlers are listed at most. Default:
	// DefaultMaxSlow.
	MaxSlow int
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger gets a warning when the metrics cannot be read. Default:
	// slog.Default().
	Logger *slog.Logger
	// Redact masks secrets in the readiness checks' errors, which may
	// quote what a backend said (logs.Redactor.String). Default: nothing
	// masked.
	Redact func(string) string
	// Process is this process's identity. Default: the host name, process
	// id, start time and the build's module version and VCS revision.
	Process *Process
}

// Status samples a server's state once per interval and serves the last
// sample as a page and as JSON. Each request serves what the last sample
// found, so the cost of the page does not grow with its viewers: one
// sample per interval, whoever looks. Make one with New; Run samples.
type Status struct {
	src  Sources
	o    Options
	proc Process

	mu       sync.Mutex // held by Sample, which owns the fields below
	last     map[string]sampleCounts
	lastAt   time.Time
	rates    map[string]*series
	latency  []map[string]histogram // a ring of the last Window+1 samples' histograms
	latAt    []time.Time
	snapshot []byte // the last sample, as JSON; nil before the first
	snapMu   sync.RWMutex
}

type sampleCounts struct{ in, out uint64 }

// series is a ring of an adapter's rates, one per sample.
type series struct {
	in, out []float64
	next    int
}

func (s *series) add(in, out float64, n int) {
	if len(s.in) < n {
		s.in, s.out = append(s.in, in), append(s.out, out)
		return
	}
	s.in[s.next], s.out[s.next] = in, out
	s.next = (s.next + 1) % n
}

// ordered returns the rates oldest first.
func (s *series) ordered() (in, out []float64) {
	in = append(slices.Clone(s.in[s.next:]), s.in[:s.next]...)
	out = append(slices.Clone(s.out[s.next:]), s.out[:s.next]...)
	return in, out
}

// New returns a Status reading src.
func New(src Sources, o Options) *Status {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.History <= 0 {
		o.History = DefaultHistory
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxSlow <= 0 {
		o.MaxSlow = DefaultMaxSlow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Redact == nil {
		o.Redact = func(s string) string { return s }
	}
	if src.Layer.Check == "" {
		src.Layer.Check = "layer"
	}
	st := &Status{src: src, o: o, last: map[string]sampleCounts{}, rates: map[string]*series{}}
	if o.Process != nil {
		st.proc = *o.Process
	} else {
		st.proc = ThisProcess(o.Now())
	}
	return st
}

// ThisProcess returns the identity of the running process, started at
// started: host name, process id, and the module version and VCS revision
// the binary was built from.
func ThisProcess(started time.Time) Process {
	p := Process{PID: os.Getpid(), Started: started, Version: "(devel)", Go: runtime.Version()}
	p.Host, _ = os.Hostname()
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			p.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				p.Revision = s.Value
			case "vcs.modified":
				if s.Value == "true" && p.Revision != "" {
					p.Revision += "+dirty"
				}
			}
		}
	}
	return p
}

// Run samples at once and then every interval, until ctx ends.
func (s *Status) Run(ctx context.Context) {
	s.Sample(ctx)
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sample(ctx)
		}
	}
}

// JSON returns the last sample as JSON, or nil before the first.
func (s *Status) JSON() []byte {
	s.snapMu.RLock()
	defer s.snapMu.RUnlock()
	return s.snapshot
}

func msOf(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
