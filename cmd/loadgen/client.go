package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gorilla "github.com/gorilla/websocket"
)

// echoResult is one run's throughput and latency.
type echoResult struct {
	rate     float64 // round trips (or deliveries) per second
	p50, p99 time.Duration
}

var dialer = gorilla.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}

// dialMany opens n connections to path, 64 at a time.
func dialMany(addr, path string, n int) ([]*gorilla.Conn, error) {
	conns := make([]*gorilla.Conn, n)
	var (
		next  atomic.Int64
		first error
		once  sync.Once
		wg    sync.WaitGroup
	)
	for range min(64, n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				c, _, err := dialer.Dial("ws://"+addr+path, nil)
				if err != nil {
					once.Do(func() { first = fmt.Errorf("dial connection %d: %w", i, err) })
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	if first != nil {
		closeAll(conns)
		return nil, first
	}
	return conns, nil
}

func closeAll(conns []*gorilla.Conn) {
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
}

// echoRun keeps n connections busy for d, each sending a message and
// waiting for its echo before sending the next.
func echoRun(addr string, n int, d time.Duration, msg string) (echoResult, error) {
	conns, err := dialMany(addr, "/echo", n)
	if err != nil {
		return echoResult{}, err
	}
	defer closeAll(conns)
	lat := make([][]time.Duration, n)
	errs := make([]error, n)
	payload := []byte(msg)
	begin := make(chan struct{})
	var wg sync.WaitGroup
	var end time.Time
	for i, c := range conns {
		wg.Go(func() {
			<-begin
			own := make([]time.Duration, 0, 1024)
			for time.Now().Before(end) {
				t0 := time.Now()
				_ = c.SetReadDeadline(t0.Add(10 * time.Second))
				if err := c.WriteMessage(gorilla.TextMessage, payload); err != nil {
					errs[i] = err
					break
				}
				if _, got, err := c.ReadMessage(); err != nil || len(got) != len(payload) {
					errs[i] = errors.Join(err, fmt.Errorf("echo of %d bytes came back as %d", len(payload), len(got)))
					break
				}
				own = append(own, time.Since(t0))
			}
			lat[i] = own
		})
	}
	start := time.Now()
	end = start.Add(d)
	close(begin)
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return echoResult{}, err
	}
	return summarize(slices.Concat(lat...), elapsed), nil
}

// broadcastRun joins n connections to one room; one member sends, and the
// next message goes once every member has received the previous one.
func broadcastRun(addr string, n int, d time.Duration, msg string) (echoResult, error) {
	conns, err := dialMany(addr, "/room", n)
	if err != nil {
		return echoResult{}, err
	}
	defer closeAll(conns)
	for i, c := range conns { // every member has joined once it says so
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, m, err := c.ReadMessage(); err != nil || string(m) != "joined" {
			return echoResult{}, fmt.Errorf("member %d did not join: %v %q", i, err, m)
		}
		_ = c.SetReadDeadline(time.Time{})
	}
	got := make(chan struct{}, n)
	lat := make([][]time.Duration, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			for {
				_, m, err := c.ReadMessage()
				if err != nil {
					return // the run is over: the connection was closed
				}
				sent, _, _ := strings.Cut(string(m), " ")
				ns, err := strconv.ParseInt(sent, 10, 64)
				if err != nil {
					continue
				}
				lat[i] = append(lat[i], time.Since(time.Unix(0, ns)))
				got <- struct{}{}
			}
		})
	}
	start := time.Now()
	end := start.Add(d)
	rounds := 0
	var runErr error
	for time.Now().Before(end) && runErr == nil {
		stamp := strconv.FormatInt(time.Now().UnixNano(), 10) + " "
		m := stamp + msg[min(len(stamp), len(msg)):]
		if err := conns[0].WriteMessage(gorilla.TextMessage, []byte(m)); err != nil {
			runErr = err
			break
		}
		timeout := time.After(10 * time.Second)
		for range n {
			select {
			case <-got:
			case <-timeout:
				runErr = fmt.Errorf("round %d: not every member received the broadcast", rounds)
			}
			if runErr != nil {
				break
			}
		}
		rounds++
	}
	elapsed := time.Since(start)
	closeAll(conns)
	wg.Wait()
	if runErr != nil {
		return echoResult{}, runErr
	}
	return summarize(slices.Concat(lat...), elapsed), nil
}

// idleRun opens n connections, makes each do one round trip so that its
// scope exists, and returns how much the server's resident memory grew.
func idleRun(c *child, n int, msg string) (int64, error) {
	if err := c.gc(); err != nil {
		return 0, err
	}
	before, err := c.rss()
	if err != nil {
		return 0, err
	}
	conns, err := dialMany(c.addr, "/echo", n)
	if err != nil {
		return 0, err
	}
	defer closeAll(conns)
	payload := []byte(msg)
	for i, conn := range conns {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := conn.WriteMessage(gorilla.TextMessage, payload); err != nil {
			return 0, fmt.Errorf("connection %d: %w", i, err)
		}
		if _, _, err := conn.ReadMessage(); err != nil {
			return 0, fmt.Errorf("connection %d: %w", i, err)
		}
	}
	if err := c.gc(); err != nil {
		return 0, err
	}
	after, err := c.rss()
	return after - before, err
}

func summarize(lat []time.Duration, elapsed time.Duration) echoResult {
	if len(lat) == 0 {
		return echoResult{}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(time.Microsecond)
	}
	return echoResult{rate: float64(len(lat)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99)}
}
