package status

import (
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"
)

// The series read from the metrics registry.
const (
	handlerSeconds = "switchboard_handler_seconds"
	layerErrors    = "switchboard_layer_errors_total"
)

// histogram is one protocol's cumulative handler latency histogram:
// counts[i] events took at most bounds[i] seconds; count is every event.
type histogram struct {
	bounds []float64
	counts []uint64
	count  uint64
	sum    float64
}

// gathered is what a sample reads from the registry.
type gathered struct {
	latency     map[string]histogram // by protocol
	layerErrors map[string]uint64    // by kind
}

// read picks the series the page shows out of what a registry gathered.
func read(mfs []*dto.MetricFamily) gathered {
	g := gathered{latency: map[string]histogram{}, layerErrors: map[string]uint64{}}
	for _, mf := range mfs {
		switch mf.GetName() {
		case handlerSeconds:
			for _, m := range mf.GetMetric() {
				h := m.GetHistogram()
				if h == nil {
					continue
				}
				var hg histogram
				for _, b := range h.GetBucket() {
					hg.bounds = append(hg.bounds, b.GetUpperBound())
					hg.counts = append(hg.counts, b.GetCumulativeCount())
				}
				hg.count, hg.sum = h.GetSampleCount(), h.GetSampleSum()
				g.latency[label(m, "protocol")] = hg
			}
		case layerErrors:
			for _, m := range mf.GetMetric() {
				g.layerErrors[label(m, "kind")] += uint64(m.GetCounter().GetValue())
			}
		}
	}
	return g
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// since returns the events of h that came after old: a histogram of the
// window between two samples. A histogram whose buckets changed (it
// should not) is taken whole.
func (h histogram) since(old histogram) histogram {
	if len(old.counts) != len(h.counts) || old.count > h.count {
		return h
	}
	d := histogram{bounds: h.bounds, counts: make([]uint64, len(h.counts)), count: h.count - old.count, sum: h.sum - old.sum}
	for i := range h.counts {
		d.counts[i] = h.counts[i] - old.counts[i]
	}
	return d
}

// quantile estimates the q-quantile (0 < q < 1) in seconds as Prometheus'
// histogram_quantile does: find the bucket holding the rank and
// interpolate linearly within it, from 0 for the first bucket; a rank
// past the last finite bound is that bound. NaN when h is empty.
func (h histogram) quantile(q float64) float64 {
	if h.count == 0 {
		return math.NaN()
	}
	rank := q * float64(h.count)
	i := sort.Search(len(h.counts), func(i int) bool { return float64(h.counts[i]) >= rank })
	if i == len(h.counts) {
		if len(h.bounds) == 0 {
			return math.NaN()
		}
		return h.bounds[len(h.bounds)-1]
	}
	lower, below := 0.0, uint64(0)
	if i > 0 {
		lower, below = h.bounds[i-1], h.counts[i-1]
	}
	upper := h.bounds[i]
	in := h.counts[i] - below
	if in == 0 {
		return upper
	}
	return lower + (upper-lower)*(rank-float64(below))/float64(in)
}

// ms turns seconds into rounded milliseconds for the page, nil for NaN.
func ms(seconds float64) *float64 {
	if math.IsNaN(seconds) || math.IsInf(seconds, 0) {
		return nil
	}
	v := math.Round(seconds*1e6) / 1e3
	return &v
}
