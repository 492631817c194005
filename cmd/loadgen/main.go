// Command loadgen measures WebSocket servers on loopback, each in a child
// process of its own, with one client, beside a baseline in the same run.
//
// echo (the default): echo round trips per second with their p50 and p99
// latency, broadcast deliveries per second with their latency, and the
// resident memory an idle connection costs. Each figure for the full stack
// (adapter, protocol router, path router, consumer, send) is measured
// beside gorilla's bare echo server; the echo ratio is the median of the
// ratios of runs made back to back, shown with their range.
//
// fanout: the room bot, run by botserver's code on the Redis layer,
// against a centrifuge server with its Redis broker: two server processes
// of each on one Redis, members spread over both in rooms, one sender a
// room at a steady rate; delivery latency from the send time in each
// message, CPU time per delivery from the server processes' /proc, runs
// alternating, ratios taken per pair.
//
// rooms: the room path, 100 connections in 50 rooms of 2 all sending, at
// rising rates: deliveries the client missed beside the skipped
// deliveries the servers counted and the warnings they logged.
//
// soak: idle room members and steady group sends on the Redis layer for
// minutes; it fails if one delivery is lost.
//
//	go run ./cmd/loadgen                       # 100 and 1,000 connections, 10,000 idle
//	go run ./cmd/loadgen -conns 100 -duration 2s -idle 1000
//	go run ./cmd/loadgen -repeat 3 fanout      # 1,000 and 10,000 members at 60,000 deliveries/s
//	go run ./cmd/loadgen rooms
//	go run ./cmd/loadgen soak                  # 5 minutes, 10,000 idle members, 1,000 sends/s
//
// Flags come before the names of the runs. It only ever connects to
// servers it started on 127.0.0.1 and to the Redis of -redis, where it
// keeps to a key prefix of each run's own and deletes its keys; its counts
// and durations are bounded.
package main

import (
	"bufio"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Bounds on what one run may ask for.
const (
	maxConns    = 20_000
	maxDuration = time.Minute
	maxSoak     = time.Hour
	maxRate     = 1_000_000
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// options are the command line's settings, checked.
type options struct {
	counts   []int
	duration time.Duration
	idle     int
	size     int
	repeat   int
	redis    string

	members  []int
	rate     float64
	roomSize int
	fanDur   time.Duration

	roomRates []int

	soak      time.Duration
	soakIdle  int
	soakSends float64
}

func run(args []string) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	serveKind := fs.String("serve", "", "run as the server process of this kind (full, bare, room or centrifuge); used by loadgen itself")
	prefix := fs.String("prefix", "", "the Redis key prefix of a room or centrifuge server process; used by loadgen itself")
	conns := fs.String("conns", "100,1000", "comma-separated connection counts for the echo and broadcast runs")
	duration := fs.Duration("duration", 5*time.Second, "how long each echo and broadcast run lasts")
	idle := fs.Int("idle", 10_000, "idle connections for the memory measurement (0 skips it)")
	size := fs.Int("size", 32, "message size in bytes")
	repeat := fs.Int("repeat", 5, "runs per server and count, in pairs of alternating order; the median is shown")
	redisURL := fs.String("redis", "redis://127.0.0.1:6379/0", "the Redis of the fanout, rooms and soak runs; their keys are under a prefix of the run's own, deleted after it")
	members := fs.String("members", "1000,10000", "fanout: comma-separated member counts")
	rate := fs.Float64("rate", 60_000, "fanout: deliveries per second to aim at")
	roomSize := fs.Int("room-size", 100, "fanout: members per room, one of whom sends")
	fanDur := fs.Duration("fanout-duration", 10*time.Second, "fanout: how long each run sends")
	roomRates := fs.String("room-rates", "10000,20000,30000,40000,60000", "rooms: comma-separated messages per second, 100 connections in 50 rooms of 2")
	soak := fs.Duration("soak", 5*time.Minute, "soak: how long it sends")
	soakIdle := fs.Int("soak-idle", 10_000, "soak: idle room members")
	soakSends := fs.Float64("soak-sends", 1000, "soak: group sends per second, to 100 rooms of 10")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: loadgen [flags] [echo] [fanout] [rooms] [soak]

  echo    echo and broadcast vs bare gorilla/websocket, idle memory (the default)
  fanout  the room bot vs centrifuge, two server processes each on one Redis
  rooms   the room path: 100 connections in 50 rooms of 2, rate by rate
  soak    idle room members and steady group sends on the Redis layer: deliveries lost

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *serveKind != "" {
		return serve(*serveKind, *redisURL, *prefix)
	}
	o := options{duration: *duration, idle: *idle, size: *size, repeat: *repeat, redis: *redisURL,
		rate: *rate, roomSize: *roomSize, fanDur: *fanDur, soak: *soak, soakIdle: *soakIdle, soakSends: *soakSends}
	var err error
	if o.counts, err = parseCounts("-conns", *conns, 1, maxConns); err != nil {
		return err
	}
	if o.members, err = parseCounts("-members", *members, 2, maxConns); err != nil {
		return err
	}
	if o.roomRates, err = parseCounts("-room-rates", *roomRates, 1, maxRate); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	modes := fs.Args()
	if len(modes) == 0 {
		modes = []string{"echo"}
	}
	for _, m := range modes {
		if !slices.Contains([]string{"echo", "fanout", "rooms", "soak"}, m) {
			return fmt.Errorf("unknown run %q: echo, fanout, rooms or soak", m)
		}
	}
	raiseFileLimit()
	fmt.Printf("loadgen: %d-byte messages, %d CPUs\n", o.size, runtime.NumCPU())
	for _, m := range modes {
		fmt.Println()
		switch m {
		case "echo":
			err = runEcho(o)
		case "fanout":
			err = runFanout(o)
		case "rooms":
			err = runRooms(o)
		case "soak":
			err = runSoak(o)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseCounts parses a comma-separated list of counts from lo to hi.
func parseCounts(flag, list string, lo, hi int) ([]int, error) {
	var counts []int
	for f := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("%s: %q is not a count from %d to %d", flag, f, lo, hi)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

func (o options) check() error {
	if o.duration <= 0 || o.duration > maxDuration {
		return fmt.Errorf("-duration must be in (0, %v]", maxDuration)
	}
	if o.fanDur <= 0 || o.fanDur > maxDuration {
		return fmt.Errorf("-fanout-duration must be in (0, %v]", maxDuration)
	}
	if o.soak <= 0 || o.soak > maxSoak {
		return fmt.Errorf("-soak must be in (0, %v]", maxSoak)
	}
	if o.idle < 0 || o.idle > maxConns {
		return fmt.Errorf("-idle must be from 0 to %d", maxConns)
	}
	if o.soakIdle < 0 || o.soakIdle > maxConns {
		return fmt.Errorf("-soak-idle must be from 0 to %d", maxConns)
	}
	if o.repeat < 1 || o.repeat > 9 {
		return errors.New("-repeat must be from 1 to 9")
	}
	if o.size < 32 || o.size > 1<<20 {
		return errors.New("-size must be from 32 bytes to 1 MiB")
	}
	if o.roomSize < 2 || o.roomSize > 1000 {
		return errors.New("-room-size must be from 2 to 1000")
	}
	if o.rate <= 0 || o.rate > maxRate || o.soakSends <= 0 || o.soakSends > maxRate {
		return fmt.Errorf("-rate and -soak-sends must be in (0, %d]", maxRate)
	}
	return nil
}

// runEcho measures echo round trips, broadcasts and idle memory, beside
// gorilla's bare echo server.
func runEcho(o options) error {
	msg := strings.Repeat("x", o.size)

	fmt.Printf("Echo round trips (each connection sends, waits for the echo, repeats; %v per run; median of %d runs)\n", o.duration, o.repeat)
	fmt.Printf("%-6s %7s %14s %10s %10s %8s %s\n", "server", "conns", "round trips/s", "p50", "p99", "ratio", "(range)")
	for _, n := range o.counts {
		runs := map[string][]echoResult{}
		var ratios []float64
		for i := range o.repeat {
			// Each pair runs back to back, in alternating order, and the
			// ratio is taken per pair: the machine's speed drifts by more
			// than the difference measured, between pairs far more than
			// within one.
			kinds := []string{"bare", "full"}
			if i%2 == 1 {
				kinds[0], kinds[1] = kinds[1], kinds[0]
			}
			pair := map[string]float64{}
			for _, kind := range kinds {
				r, err := withServer(kind, func(c *child) (echoResult, error) { return echoRun(c.addr, n, o.duration, msg) })
				if err != nil {
					return fmt.Errorf("echo, %s server, %d connections: %w", kind, n, err)
				}
				runs[kind] = append(runs[kind], r)
				pair[kind] = r.rate
			}
			ratios = append(ratios, pair["full"]/pair["bare"])
		}
		bare, full := median(runs["bare"]), median(runs["full"])
		slices.Sort(ratios)
		fmt.Printf("%-6s %7d %14.0f %10v %10v\n", "bare", n, bare.rate, bare.p50, bare.p99)
		fmt.Printf("%-6s %7d %14.0f %10v %10v %7.2fx (%.2f–%.2f)\n", "full", n, full.rate, full.p50, full.p99,
			ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
	}

	fmt.Println("\nBroadcast (one member sends to the room, every member receives it, repeat)")
	fmt.Printf("%-6s %7s %14s %10s %10s\n", "server", "conns", "deliveries/s", "p50", "p99")
	for _, n := range o.counts {
		r, err := withServer("full", func(c *child) (echoResult, error) { return broadcastRun(c.addr, n, o.duration, msg) })
		if err != nil {
			return fmt.Errorf("broadcast, %d connections: %w", n, err)
		}
		fmt.Printf("%-6s %7d %14.0f %10v %10v\n", "full", n, r.rate, r.p50, r.p99)
	}

	if o.idle > 0 {
		fmt.Printf("\nIdle memory (resident memory growth of the server process / %d open, idle connections)\n", o.idle)
		fmt.Printf("%-6s %7s %14s %14s\n", "server", "conns", "RSS growth", "per conn")
		for _, kind := range []string{"bare", "full"} {
			grow, err := withServer(kind, func(c *child) (int64, error) { return idleRun(c, o.idle, msg) })
			if err != nil {
				return fmt.Errorf("idle memory, %s server: %w", kind, err)
			}
			fmt.Printf("%-6s %7d %11.1f MiB %10.1f KiB\n", kind, o.idle,
				float64(grow)/(1<<20), float64(grow)/float64(o.idle)/1024)
		}
	}
	return nil
}

// median returns the run with the median rate.
func median(rs []echoResult) echoResult {
	slices.SortFunc(rs, func(a, b echoResult) int { return cmp.Compare(a.rate, b.rate) })
	return rs[len(rs)/2]
}

// withServer starts a server process of kind, runs f against it and stops it.
func withServer[T any](kind string, f func(*child) (T, error)) (T, error) {
	var zero T
	c, err := startChild(kind)
	if err != nil {
		return zero, err
	}
	v, err := f(c)
	if serr := c.stop(); err == nil && serr != nil {
		err = fmt.Errorf("server process: %w", serr)
	}
	return v, err
}

// startChild starts a server process of kind, with more flags of its own.
func startChild(kind string, args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, append([]string{"-serve", kind}, args...)...)
	warn := &lineCounter{w: os.Stderr}
	cmd.Stderr = warn
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "ADDR ") || len(strings.Fields(sc.Text())) < 2 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("server process did not start")
	}
	addrs := strings.Fields(strings.TrimPrefix(sc.Text(), "ADDR "))
	c := &child{pid: cmd.Process.Pid, addr: addrs[0], in: in, out: sc, wait: cmd.Wait, warn: warn}
	if len(addrs) > 1 {
		c.ops = addrs[1]
	}
	return c, nil
}

// raiseFileLimit lifts the soft limit on open files to the hard limit: ten
// thousand connections need ten thousand descriptors.
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// residentBytes reads a process's resident set size from /proc.
func residentBytes(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}
