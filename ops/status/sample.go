package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/ops"
)

// Sample reads every source once and keeps the result for the page: what
// Run does on each tick. It returns what it found.
func (s *Status) Sample(ctx context.Context) Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	// Empty lists rather than nulls, so that a reader of the JSON can
	// iterate without a check.
	snap := Snapshot{Time: now, IntervalMS: msOf(s.o.Interval), Process: s.proc, Ready: true,
		Checks: []CheckState{}, Adapters: []AdapterState{}, Latency: []LatencyState{}, Problems: []ProblemState{},
		Slow: SlowState{Running: []RunningState{}}}

	var failures []ops.Failure
	if s.src.Health != nil {
		failures = s.src.Health.Check(ctx)
	}
	for i, f := range failures {
		failures[i].Err = errors.New(s.o.Redact(f.Err.Error()))
	}
	snap.Checks, snap.Ready = checks(s.src.Health, failures)

	var adapters []Adapter
	if s.src.Adapters != nil {
		adapters = s.src.Adapters()
	}
	elapsed := now.Sub(s.lastAt).Seconds()
	seen := map[string]bool{}
	for _, a := range adapters {
		seen[a.Name()] = true
		snap.Adapters = append(snap.Adapters, s.adapter(a, failures, elapsed))
	}
	for name := range s.rates {
		if !seen[name] { // stopped: should it come back, its history starts afresh
			delete(s.rates, name)
			delete(s.last, name)
		}
	}
	s.lastAt = now

	g := gathered{latency: map[string]histogram{}, layerErrors: map[string]uint64{}}
	if s.src.Metrics != nil {
		mfs, err := s.src.Metrics.Gather()
		if err != nil {
			s.o.Logger.Warn("status: metrics read in part", "err", err)
		}
		g = read(mfs)
	}
	snap.Latency = s.latencies(now, g.latency)
	snap.Layer = s.layer(failures, g.layerErrors)
	snap.Cluster = cluster(s.src.Layer, s.src.Partitions)
	if s.src.Slow != nil {
		snap.Slow.ThresholdMS = msOf(s.src.Slow.After())
		for _, r := range s.src.Slow.Running(s.o.MaxSlow) {
			snap.Slow.Running = append(snap.Slow.Running, RunningState{Adapter: r.Adapter, Key: r.Key, Event: r.Event, ForMS: msOf(r.For)})
		}
	}
	if s.src.Logs != nil {
		for _, l := range s.src.Logs.Recent() {
			snap.Problems = append(snap.Problems, *lineState(&l))
		}
	}
	b, err := json.Marshal(snap)
	if err != nil { // only plain values: cannot happen
		s.o.Logger.Error("status: sample not encoded", "err", err)
		return snap
	}
	s.snapMu.Lock()
	s.snapshot = b
	s.snapMu.Unlock()
	return snap
}

// checks lists every check by name, failed or not. A Checker that cannot
// name its passing checks lists the failures only.
func checks(h Checker, failures []ops.Failure) ([]CheckState, bool) {
	failed := map[string]string{}
	for _, f := range failures {
		failed[f.Name] = f.Err.Error()
	}
	out := []CheckState{}
	if n, ok := h.(interface{ Names() []string }); ok {
		for _, name := range n.Names() {
			e, bad := failed[name]
			out = append(out, CheckState{Name: name, OK: !bad, Error: e})
			delete(failed, name)
		}
	}
	for _, f := range failures {
		if _, left := failed[f.Name]; left {
			out = append(out, CheckState{Name: f.Name, Error: f.Err.Error()})
		}
	}
	return out, len(failures) == 0
}

// adapter samples one adapter; elapsed is the time since the last
// sample, in seconds.
func (s *Status) adapter(a Adapter, failures []ops.Failure, elapsed float64) AdapterState {
	name := a.Name()
	st := AdapterState{Name: name, Kind: a.Kind, Protocols: a.Protocols, Detail: a.Detail,
		Scopes: a.Len(), MaxScopes: a.MaxScopes, State: "serving"}
	if st.MaxScopes > 0 {
		st.Fill = math.Round(float64(st.Scopes)/float64(st.MaxScopes)*1e4) / 1e4
	}
	for _, f := range failures {
		if f.Name == name || strings.HasPrefix(f.Name, name+" ") {
			st.Reasons = append(st.Reasons, f.Name+": "+f.Err.Error())
		}
	}
	select {
	case <-a.Ready():
		if len(st.Reasons) > 0 {
			st.State = "not ready"
		}
	default:
		st.State = "starting"
	}
	if s.src.Traffic != nil {
		st.In, st.Out = s.src.Traffic.Counts(name)
	}
	r := s.rates[name]
	if r == nil {
		r = &series{}
		s.rates[name] = r
	}
	if prev, ok := s.last[name]; ok && elapsed > 0 {
		st.InRate, st.OutRate = rate(st.In-prev.in, elapsed), rate(st.Out-prev.out, elapsed)
		r.add(st.InRate, st.OutRate, s.o.History)
	}
	s.last[name] = sampleCounts{st.In, st.Out}
	st.InHistory, st.OutHistory = r.ordered()
	if s.src.Logs != nil {
		l := s.src.Logs.Adapter(name)
		st.Said, st.Problem, st.Problems = lineState(l.Said), lineState(l.Problem), l.Problems
	}
	return st
}

func rate(n uint64, seconds float64) float64 { return math.Round(float64(n)/seconds*100) / 100 }

// latencies keeps the histograms of this sample and returns the
// percentiles over the window: from the oldest sample kept to this one.
func (s *Status) latencies(now time.Time, h map[string]histogram) []LatencyState {
	s.latency = append(s.latency, h)
	s.latAt = append(s.latAt, now)
	if len(s.latency) > s.o.Window+1 {
		s.latency, s.latAt = s.latency[1:], s.latAt[1:]
	}
	old, from := s.latency[0], s.latAt[0]
	out := []LatencyState{}
	for _, protocol := range slices.Sorted(maps.Keys(h)) {
		cur := h[protocol]
		win := cur
		if len(s.latency) > 1 {
			win = cur.since(old[protocol]) // a protocol new in the window has no old histogram: all of it is new
		}
		ls := LatencyState{Protocol: protocol, WindowS: math.Round(now.Sub(from).Seconds()*10) / 10, Count: win.count, Total: cur.count,
			P50MS: ms(win.quantile(0.5)), P90MS: ms(win.quantile(0.9)), P99MS: ms(win.quantile(0.99))}
		if win.count > 0 {
			ls.MeanMS = ms(win.sum / float64(win.count))
		}
		out = append(out, ls)
	}
	return out
}

func (s *Status) layer(failures []ops.Failure, errs map[string]uint64) LayerState {
	l := LayerState{Backend: s.src.Layer.Backend, Detail: s.src.Layer.Detail, OK: true, Errors: errs}
	for _, f := range failures {
		if f.Name == s.src.Layer.Check {
			l.OK, l.Error = false, f.Err.Error()
		}
	}
	return l
}

func cluster(l Layer, partitions func() ([]int, int)) ClusterState {
	if partitions != nil {
		owned, total := partitions()
		return ClusterState{Shared: true,
			Note: "A durable intake spreads conversations over partitions, and each partition has one owner " +
				"process at a time: the other processes' pages show theirs.",
			Owns: ownedPartitions(owned, total)}
	}
	if !l.Shared {
		return ClusterState{Note: "The channel layer is in this process's memory: this process is the whole server.",
			Owns: "every conversation"}
	}
	return ClusterState{Shared: true,
		Note: "Other processes may share this channel layer. Conversations have no owner process yet: " +
			"each process serves the traffic that reaches it, so this page shows this process alone; " +
			"open each process's own page to see the others.",
		Owns: "the conversations whose traffic reaches this process"}
}

// ownedPartitions says which partitions a process owns: "3 of 64: 1, 5, 9".
func ownedPartitions(owned []int, total int) string {
	if len(owned) == 0 {
		return fmt.Sprintf("none of the %d partitions", total)
	}
	ids := make([]string, len(owned))
	for i, p := range owned {
		ids[i] = strconv.Itoa(p)
	}
	return fmt.Sprintf("%d of %d partitions: %s", len(owned), total, strings.Join(ids, ", "))
}
