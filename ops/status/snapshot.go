package status

import "time"

// Snapshot is what /status.json serves: the state of the process at one
// sample. Durations are in milliseconds, rates in events per second.
type Snapshot struct {
	Time       time.Time      `json:"time"`
	IntervalMS float64        `json:"interval_ms"`
	Process    Process        `json:"process"`
	Ready      bool           `json:"ready"`
	Checks     []CheckState   `json:"checks"`
	Adapters   []AdapterState `json:"adapters"`
	Latency    []LatencyState `json:"latency"`
	Slow       SlowState      `json:"slow"`
	Layer      LayerState     `json:"layer"`
	Cluster    ClusterState   `json:"cluster"`
	Problems   []ProblemState `json:"problems"`
}

// Process is this process's identity.
type Process struct {
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	Started  time.Time `json:"started"`
	Version  string    `json:"version"`
	Revision string    `json:"revision,omitempty"`
	Go       string    `json:"go"`
}

// CheckState is one readiness check.
type CheckState struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// AdapterState is one adapter.
type AdapterState struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	Protocols []string `json:"protocols"`
	Detail    string   `json:"detail,omitempty"`
	// State is "starting" (not serving yet), "serving", or "not ready"
	// (serving, but a readiness check of its fails: Reasons say which).
	State   string   `json:"state"`
	Reasons []string `json:"reasons,omitempty"`
	// Scopes are its live scopes, MaxScopes their bound (0: none), Fill
	// Scopes/MaxScopes.
	Scopes    int     `json:"scopes"`
	MaxScopes int     `json:"max_scopes"`
	Fill      float64 `json:"fill"`
	// In and Out count the events since the process started; InRate and
	// OutRate are per second over the last interval; InHistory and
	// OutHistory the rates of the samples kept, the oldest first.
	In         uint64    `json:"events_in"`
	Out        uint64    `json:"events_out"`
	InRate     float64   `json:"in_per_s"`
	OutRate    float64   `json:"out_per_s"`
	InHistory  []float64 `json:"in_history"`
	OutHistory []float64 `json:"out_history"`
	// Said is its last line at info level, Problem its last warning or
	// error, Problems how many it logged.
	Said     *ProblemState `json:"said,omitempty"`
	Problem  *ProblemState `json:"last_problem,omitempty"`
	Problems uint64        `json:"problems"`
}

// LatencyState is the handler latency of one protocol over the window
// (WindowS seconds), estimated from the histogram's buckets the way
// Prometheus' histogram_quantile does: each percentile is interpolated
// within its bucket. Nil percentiles mean no event in the window.
type LatencyState struct {
	Protocol string   `json:"protocol"`
	WindowS  float64  `json:"window_s"`
	Count    uint64   `json:"count"`
	MeanMS   *float64 `json:"mean_ms"`
	P50MS    *float64 `json:"p50_ms"`
	P90MS    *float64 `json:"p90_ms"`
	P99MS    *float64 `json:"p99_ms"`
	Total    uint64   `json:"total"`
}

// SlowState lists the handlers running over the slow threshold.
type SlowState struct {
	ThresholdMS float64        `json:"threshold_ms"`
	Running     []RunningState `json:"running"`
}

// RunningState is one handler running long.
type RunningState struct {
	Adapter string  `json:"adapter"`
	Key     string  `json:"key"`
	Event   string  `json:"event"`
	ForMS   float64 `json:"for_ms"`
}

// LayerState is the channel layer's health.
type LayerState struct {
	Backend string `json:"backend"`
	Detail  string `json:"detail,omitempty"`
	// OK is whether its readiness check passes (true when it has none:
	// the in-memory layer cannot be unreachable), Error why not.
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Errors counts its failed operations since the process started, by
	// kind (error, channel_full, closed, canceled).
	Errors map[string]uint64 `json:"errors"`
}

// ClusterState is this process's view of the processes sharing its
// layer.
type ClusterState struct {
	Shared bool   `json:"shared"`
	Note   string `json:"note"`
	// Owns is what this process serves: with a durable intake, the
	// partitions it owns; else every conversation whose traffic reaches
	// it.
	Owns string `json:"owns"`
}

// ProblemState is a logged line.
type ProblemState struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Adapter string    `json:"adapter,omitempty"`
	Message string    `json:"message"`
	Err     string    `json:"err,omitempty"`
}

func lineState(l *LogLine) *ProblemState {
	if l == nil {
		return nil
	}
	return &ProblemState{Time: l.Time, Level: l.Level.String(), Adapter: l.Adapter, Message: l.Message, Err: l.Err}
}
