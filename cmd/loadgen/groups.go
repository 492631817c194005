package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// skipMetrics are the counters, in a room server's /metrics, of the
// deliveries it let go: those group sends skipped (full channels), the
// layer messages consumers dropped because their backlog was full, and
// the group sends members queued that failed. Every series whose line
// starts with one of them is summed.
var skipMetrics = []string{
	"switchboard_layer_group_skipped",
	`switchboard_layer_messages_dropped_total{reason="backlog_full"`,
	`switchboard_layer_messages_dropped_total{reason="send_failed"`,
}

// serversPerKind is how many server processes of each kind a group run
// uses: members are spread over them, so that each group message crosses
// Redis from one process to the other as well as staying in its own.
const serversPerKind = 2

// drainTime is how long a run waits, after its last send, for a delivery
// still on its way, counted from the last one received.
const drainTime = 5 * time.Second

// fanoutProtocols are the servers of the fan-out comparison and how the
// client speaks to each.
var fanoutProtocols = map[string]protocol{"room": roomProto{}, "centrifuge": centrifugeProto{}}

// runFanout compares the room bot with centrifuge: for each member count,
// runs of the two alternate, and the ratios are taken per pair.
func runFanout(o options) error {
	sends := o.rate / float64(o.roomSize-1)
	fmt.Printf("Fan-out: the room bot (botserver code, Redis layer) vs centrifuge v0.40.1 (Redis broker), %d server processes each\n", serversPerKind)
	fmt.Printf("on one Redis; members spread over them in rooms of %d, one sender a room, %.0f sends/s together (%.0f deliveries/s),\n", o.roomSize, sends, o.rate)
	fmt.Printf("%v a run; CPU is the server processes' user+system time per delivery; latency from the send time in the payload.\n", o.fanDur)
	fmt.Printf("%-11s %7s %9s %13s %8s %6s %10s %10s %9s %s\n", "server", "members", "sends/s", "deliveries/s", "lost", "closed", "p50", "p99", "CPU/dlv", "goroutines/conns")
	for _, n := range o.members {
		if n < o.roomSize {
			return fmt.Errorf("-members %d is fewer than a room of %d", n, o.roomSize)
		}
		runs := map[string][]fanoutResult{}
		var p50s, p99s, cpus []float64
		for i := range o.repeat {
			kinds := []string{"room", "centrifuge"}
			if i%2 == 1 {
				kinds[0], kinds[1] = kinds[1], kinds[0]
			}
			pair := map[string]fanoutResult{}
			for _, kind := range kinds {
				var goroutines []int
				r, err := withServers(kind, o.redis, func(cs []*child) (fanoutResult, error) {
					spec := fanoutSpec{members: n, roomSize: o.roomSize, senders: 1, sends: sends, duration: o.fanDur,
						size: o.size, drain: drainTime, pids: pids(cs),
						midway: func() { goroutines = countGoroutines(cs) }}
					return fanoutRun(fanoutProtocols[kind], addrsOf(cs), spec)
				})
				if err != nil {
					return fmt.Errorf("fan-out, %s, %d members: %w", kind, n, err)
				}
				runs[kind], pair[kind] = append(runs[kind], r), r
				fmt.Printf("%-11s %7d %9.0f %13.0f %8d %6d %10v %10v %9v %v\n", fanoutProtocols[kind].name(), n, r.sendRate, r.deliveryRate,
					r.lost(), r.broken, r.p50, r.p99, r.cpuPerDelivery().Round(10*time.Nanosecond), goroutinesPerConn(goroutines, n))
			}
			sb, cf := pair["room"], pair["centrifuge"]
			p50s = append(p50s, ratio(sb.p50, cf.p50))
			p99s = append(p99s, ratio(sb.p99, cf.p99))
			cpus = append(cpus, ratio(sb.cpuPerDelivery(), cf.cpuPerDelivery()))
		}
		fmt.Printf("%d members, switchboard / centrifuge, median of %d pairs (range): p50 %s, p99 %s, CPU per delivery %s\n",
			n, o.repeat, medianRange(p50s), medianRange(p99s), medianRange(cpus))
	}
	return nil
}

// runRooms runs the room path at rising rates: 100 connections in 50
// rooms of 2, every member sending, on a fresh pair of room servers at
// each rate; what the client missed is set beside the deliveries the
// servers counted as skipped and the warnings they logged.
func runRooms(o options) error {
	fmt.Printf("Room path: 100 connections in 50 rooms of 2 on %d room servers (Redis layer), every member sending; %v a rate\n", serversPerKind, o.duration)
	fmt.Printf("%9s %9s %13s %8s %8s %8s %6s %10s %10s\n", "target/s", "sent/s", "delivered/s", "missed", "let go", "warnings", "closed", "p50", "p99")
	for _, rate := range o.roomRates {
		var skipped float64
		var warns int
		r, err := withServers("room", o.redis, func(cs []*child) (fanoutResult, error) {
			before, err := skippedSum(cs)
			if err != nil {
				return fanoutResult{}, err
			}
			r, err := fanoutRun(roomProto{}, addrsOf(cs), fanoutSpec{members: 100, roomSize: 2, senders: 2, sends: float64(rate),
				duration: o.duration, size: o.size, drain: drainTime, pids: pids(cs)})
			if err != nil {
				return r, err
			}
			after, err := skippedSum(cs)
			skipped = after - before
			for _, c := range cs {
				n, _ := c.warn.counts()
				warns += n
			}
			return r, err
		})
		if err != nil {
			return fmt.Errorf("room path at %d/s: %w", rate, err)
		}
		fmt.Printf("%9d %9.0f %13.0f %8d %8.0f %8d %6d %10v %10v\n", rate, r.sendRate, r.deliveryRate, r.lost(), skipped, warns, r.broken, r.p50, r.p99)
		if r.reason != "" {
			fmt.Printf("%9s first connection closed: %s\n", "", r.reason)
		}
	}
	return nil
}

// runSoak holds idle room members while 100 rooms of 10 receive steady
// group sends, and fails if a single delivery is lost.
func runSoak(o options) error {
	const active, roomSize = 1000, 10
	fmt.Printf("Soak: %d idle room members and %d members in rooms of %d, %.0f group sends/s (%.0f deliveries/s), %v,\n",
		o.soakIdle, active, roomSize, o.soakSends, o.soakSends*(roomSize-1), o.soak)
	fmt.Printf("on %d room servers (Redis layer)\n", serversPerKind)
	var (
		goroutines []int
		skipped    float64
		warns      int
	)
	r, err := withServers("room", o.redis, func(cs []*child) (fanoutResult, error) {
		r, err := fanoutRun(roomProto{}, addrsOf(cs), fanoutSpec{members: active, roomSize: roomSize, senders: 1, idle: o.soakIdle,
			sends: o.soakSends, duration: o.soak, size: o.size, drain: 2 * drainTime, pids: pids(cs),
			midway: func() { goroutines = countGoroutines(cs) }})
		if err != nil {
			return r, err
		}
		skipped, err = skippedSum(cs)
		for _, c := range cs {
			n, _ := c.warn.counts()
			warns += n
		}
		return r, err
	})
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	fmt.Printf("sent %d, deliveries expected %d, received %d, lost %d; connections closed %d; p50 %v, p99 %v; let go (metrics) %.0f, warnings %d\n",
		r.sent, r.expected, r.received, r.lost(), r.broken, r.p50, r.p99, skipped, warns)
	fmt.Printf("goroutines midway: %v for %d connections\n", goroutinesPerConn(goroutines, active+o.soakIdle), active+o.soakIdle)
	if r.reason != "" {
		fmt.Printf("first connection closed: %s\n", r.reason)
	}
	if r.lost() > 0 || r.broken > 0 {
		return fmt.Errorf("soak: %d deliveries lost, %d connections closed", r.lost(), r.broken)
	}
	return nil
}

// withServers starts serversPerKind server processes of kind on the Redis
// at url, under a key prefix of their own, runs f against them, stops
// them and deletes the prefix's keys.
func withServers[T any](kind, url string, f func([]*child) (T, error)) (T, error) {
	var zero T
	prefix := "loadgen." + strings.ToLower(rand.Text()[:10]) + "."
	defer deleteKeys(url, prefix)
	var cs []*child
	stop := func() error {
		var errs []error
		for _, c := range cs {
			errs = append(errs, c.stop())
		}
		return errors.Join(errs...)
	}
	for range serversPerKind {
		c, err := startChild(kind, "-redis", url, "-prefix", prefix)
		if err != nil {
			return zero, errors.Join(err, stop())
		}
		cs = append(cs, c)
	}
	v, err := f(cs)
	if serr := stop(); err == nil && serr != nil {
		err = fmt.Errorf("server process: %w", serr)
	}
	return v, err
}

// deleteKeys deletes the keys under prefix on the Redis at url.
func deleteKeys(url, prefix string) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Unlink(ctx, iter.Val())
	}
}

func addrsOf(cs []*child) []string {
	var addrs []string
	for _, c := range cs {
		addrs = append(addrs, c.addr)
	}
	return addrs
}

func pids(cs []*child) []int {
	var ps []int
	for _, c := range cs {
		ps = append(ps, c.pid)
	}
	return ps
}

// countGoroutines asks each server process how many goroutines it has; -1
// stands for one that did not say.
func countGoroutines(cs []*child) []int {
	var ns []int
	for _, c := range cs {
		n, err := c.goroutines()
		if err != nil {
			n = -1
		}
		ns = append(ns, n)
	}
	return ns
}

// goroutinesPerConn shows each process's goroutines beside the
// connections it serves: conns spread evenly over the processes.
func goroutinesPerConn(goroutines []int, conns int) string {
	if len(goroutines) == 0 {
		return "-"
	}
	var parts []string
	for i, g := range goroutines {
		own := conns / len(goroutines)
		if i < conns%len(goroutines) {
			own++
		}
		parts = append(parts, fmt.Sprintf("%d/%d", g, own))
	}
	return strings.Join(parts, " ")
}

// skippedSum adds up the deliveries the room servers report they let go.
func skippedSum(cs []*child) (float64, error) {
	var sum float64
	for _, c := range cs {
		if c.ops == "" {
			continue
		}
		for _, m := range skipMetrics {
			n, _, err := metricSum(context.Background(), "http://"+c.ops+"/metrics", m)
			if err != nil {
				return 0, err
			}
			sum += n
		}
	}
	return sum, nil
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// medianRange shows the median of ratios, with their range.
func medianRange(ratios []float64) string {
	s := slices.Sorted(slices.Values(ratios))
	return fmt.Sprintf("%.2fx (%.2f–%.2f)", s[len(s)/2], s[0], s[len(s)-1])
}
