package ops

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// handlerBounds returns the upper bounds of the handler latency buckets.
// Chat handlers are often sub-millisecond (an echo) but can wait on a
// database or a platform API for seconds, so the buckets span 0.5ms to
// 10s. A function rather than a package variable, so that nothing can
// change the buckets behind a Metrics' back.
func handlerBounds() [14]time.Duration {
	return [...]time.Duration{
		500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond,
		5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond,
		50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
		500 * time.Millisecond, time.Second, 2500 * time.Millisecond,
		5 * time.Second, 10 * time.Second,
	}
}

// latencyVec is the handler latency histogram, one child per protocol.
//
// It stands in for a prometheus.HistogramVec because handler timing is on
// every event's path: client_golang's histogram does four atomic updates
// and a compare-and-swap loop per observation (it keeps hot and cold
// copies so that a scrape sees count, sum and buckets exactly in step),
// where this one does two atomic adds, and it measures in whole
// nanoseconds so the sum needs no float arithmetic. The price is that a
// scrape racing an observation may see its bucket a moment before its
// sum, which no rate() over a scrape interval can tell.
type latencyVec struct {
	desc   *prometheus.Desc
	bounds [14]time.Duration

	mu         sync.Mutex
	byProtocol map[string]*latency
}

// latency holds one protocol's observations. The last count is the +Inf
// bucket; the total count is the sum of all of them.
type latency struct {
	bounds *[14]time.Duration
	counts [15]atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

func newLatencyVec(name, help string) *latencyVec {
	return &latencyVec{
		desc:       prometheus.NewDesc(name, help, []string{"protocol"}, nil),
		bounds:     handlerBounds(),
		byProtocol: make(map[string]*latency),
	}
}

// child returns the histogram of protocol, making it on first use. It is
// called once per protocol per scope, not per event.
func (v *latencyVec) child(protocol string) *latency {
	v.mu.Lock()
	defer v.mu.Unlock()
	l := v.byProtocol[protocol]
	if l == nil {
		l = &latency{bounds: &v.bounds}
		v.byProtocol[protocol] = l
	}
	return l
}

// observe records one duration. A linear search beats a binary one over
// 14 bounds, and most handlers stop in the first few.
func (l *latency) observe(d time.Duration) {
	i := 0
	for i < len(l.bounds) && d > l.bounds[i] {
		i++
	}
	l.counts[i].Add(1)
	l.sum.Add(int64(d))
}

func (v *latencyVec) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

func (v *latencyVec) Collect(ch chan<- prometheus.Metric) {
	// Copy the children rather than hold the lock while the registry
	// drains ch: a new scope must not wait for a scrape.
	type named struct {
		protocol string
		l        *latency
	}
	v.mu.Lock()
	children := make([]named, 0, len(v.byProtocol))
	for protocol, l := range v.byProtocol {
		children = append(children, named{protocol, l})
	}
	v.mu.Unlock()
	for _, c := range children {
		protocol, l := c.protocol, c.l
		buckets := make(map[float64]uint64, len(v.bounds))
		var n uint64
		for i, b := range v.bounds {
			n += l.counts[i].Load()
			buckets[b.Seconds()] = n
		}
		n += l.counts[len(v.bounds)].Load()
		sum := time.Duration(l.sum.Load()).Seconds()
		ch <- prometheus.MustNewConstHistogram(v.desc, n, sum, buckets, protocol)
	}
}
