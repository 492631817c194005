package ops

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The handler histogram must expose what a prometheus.Histogram with the
// same buckets would: cumulative buckets, +Inf, count and sum in seconds.
func TestLatencyExposition(t *testing.T) {
	reg := prometheus.NewRegistry()
	v := newLatencyVec("h_seconds", "Handler time.")
	reg.MustRegister(v)
	l := v.child("telegram")
	for _, d := range []time.Duration{
		100 * time.Microsecond,  // first bucket
		500 * time.Microsecond,  // on a bound: le is inclusive
		3 * time.Millisecond,    // 0.005
		1500 * time.Millisecond, // 2.5
		11 * time.Second,        // +Inf only
	} {
		l.observe(d)
	}
	if v.child("telegram") != l {
		t.Fatal("child made twice for one protocol")
	}
	want := `
# HELP h_seconds Handler time.
# TYPE h_seconds histogram
h_seconds_bucket{protocol="telegram",le="0.0005"} 2
h_seconds_bucket{protocol="telegram",le="0.001"} 2
h_seconds_bucket{protocol="telegram",le="0.0025"} 2
h_seconds_bucket{protocol="telegram",le="0.005"} 3
h_seconds_bucket{protocol="telegram",le="0.01"} 3
h_seconds_bucket{protocol="telegram",le="0.025"} 3
h_seconds_bucket{protocol="telegram",le="0.05"} 3
h_seconds_bucket{protocol="telegram",le="0.1"} 3
h_seconds_bucket{protocol="telegram",le="0.25"} 3
h_seconds_bucket{protocol="telegram",le="0.5"} 3
h_seconds_bucket{protocol="telegram",le="1"} 3
h_seconds_bucket{protocol="telegram",le="2.5"} 4
h_seconds_bucket{protocol="telegram",le="5"} 4
h_seconds_bucket{protocol="telegram",le="10"} 4
h_seconds_bucket{protocol="telegram",le="+Inf"} 5
h_seconds_sum{protocol="telegram"} 12.5036
h_seconds_count{protocol="telegram"} 5
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(v); n != 1 {
		t.Fatalf("%d series, want one per protocol", n)
	}
}
