// Command loadgen measures the WebSocket adapter on loopback: echo round
// trips per second with their p50 and p99 latency, broadcast deliveries
// per second with their latency, and the resident memory an idle
// connection costs. Each figure for the full stack (adapter, protocol
// router, path router, consumer, send) is measured beside gorilla's bare
// echo server, with the same client, in the same run; the echo ratio is
// the median of the ratios of runs made back to back, shown with their
// range. Every server runs in a child process of its own.
//
//	go run ./cmd/loadgen                       # 100 and 1,000 connections, 10,000 idle
//	go run ./cmd/loadgen -conns 100 -duration 2s -idle 1000
//
// It only ever connects to servers it started on 127.0.0.1, and its counts
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
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	serveKind := fs.String("serve", "", "run as the server process of this kind (full or bare); used by loadgen itself")
	conns := fs.String("conns", "100,1000", "comma-separated connection counts for the echo and broadcast runs")
	duration := fs.Duration("duration", 5*time.Second, "how long each echo and broadcast run lasts")
	idle := fs.Int("idle", 10_000, "idle connections for the memory measurement (0 skips it)")
	size := fs.Int("size", 32, "message size in bytes")
	repeat := fs.Int("repeat", 5, "echo runs per server and count, in pairs of alternating order; the median is shown")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *serveKind != "" {
		return serve(*serveKind)
	}
	var counts []int
	for f := range strings.SplitSeq(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxConns {
			return fmt.Errorf("-conns: %q is not a count from 1 to %d", f, maxConns)
		}
		counts = append(counts, n)
	}
	if *duration <= 0 || *duration > maxDuration {
		return fmt.Errorf("-duration must be in (0, %v]", maxDuration)
	}
	if *idle < 0 || *idle > maxConns {
		return fmt.Errorf("-idle must be from 0 to %d", maxConns)
	}
	if *repeat < 1 || *repeat > 9 {
		return errors.New("-repeat must be from 1 to 9")
	}
	if *size < 16 || *size > 1<<20 {
		return errors.New("-size must be from 16 bytes to 1 MiB")
	}
	raiseFileLimit()
	msg := strings.Repeat("x", *size)

	fmt.Printf("loadgen: %d-byte messages, %v per run, %d CPUs\n\n", *size, *duration, runtime.NumCPU())
	fmt.Printf("Echo round trips (each connection sends, waits for the echo, repeats; median of %d runs)\n", *repeat)
	fmt.Printf("%-6s %7s %14s %10s %10s %8s %s\n", "server", "conns", "round trips/s", "p50", "p99", "ratio", "(range)")
	for _, n := range counts {
		runs := map[string][]echoResult{}
		var ratios []float64
		for i := range *repeat {
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
				r, err := withServer(kind, func(c *child) (echoResult, error) { return echoRun(c.addr, n, *duration, msg) })
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
	for _, n := range counts {
		r, err := withServer("full", func(c *child) (echoResult, error) { return broadcastRun(c.addr, n, *duration, msg) })
		if err != nil {
			return fmt.Errorf("broadcast, %d connections: %w", n, err)
		}
		fmt.Printf("%-6s %7d %14.0f %10v %10v\n", "full", n, r.rate, r.p50, r.p99)
	}

	if *idle > 0 {
		fmt.Printf("\nIdle memory (resident memory growth of the server process / %d open, idle connections)\n", *idle)
		fmt.Printf("%-6s %7s %14s %14s\n", "server", "conns", "RSS growth", "per conn")
		for _, kind := range []string{"bare", "full"} {
			grow, err := withServer(kind, func(c *child) (int64, error) { return idleRun(c, *idle, msg) })
			if err != nil {
				return fmt.Errorf("idle memory, %s server: %w", kind, err)
			}
			fmt.Printf("%-6s %7d %11.1f MiB %10.1f KiB\n", kind, *idle,
				float64(grow)/(1<<20), float64(grow)/float64(*idle)/1024)
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

func startChild(kind string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", kind)
	cmd.Stderr = os.Stderr
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
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "ADDR ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("server process did not start")
	}
	return &child{pid: cmd.Process.Pid, addr: strings.TrimPrefix(sc.Text(), "ADDR "), in: in, out: sc, wait: cmd.Wait}, nil
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
