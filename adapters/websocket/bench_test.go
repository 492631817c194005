package websocket_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/router"
)

// The benchmarks below run the full stack (adapter, protocol router, path
// router, consumer, send) beside gorilla's bare echo server, in one run,
// with the same client, so that the difference between the two is the
// server's: compare their allocations per round trip and their bytes per
// idle connection, which the machine's load does not change.

// plainEcho answers every message with itself, as cmd/loadgen's echo does.
type plainEcho struct{ consumer.WebSocket }

func (e *plainEcho) Receive(ctx context.Context, m websocket.Receive) error {
	if m.IsText() {
		return e.SendText(ctx, m.Text)
	}
	return e.SendBytes(ctx, m.Bytes)
}

// startEchoServer starts a server of kind "full" or "bare" and returns its
// WebSocket URL for path /echo.
func startEchoServer(b *testing.B, kind string) string {
	b.Helper()
	switch kind {
	case "full":
		paths := router.NewPathRouter()
		paths.Handle("/echo", consumer.New(func() *plainEcho { return new(plainEcho) }, consumer.On((*plainEcho).Receive)))
		a, err := wsa.New(wsa.Config{}, wsa.WithListener(listen(b)))
		if err != nil {
			b.Fatal(err)
		}
		s := serve(b, a, router.ByProtocol(router.Routes{"websocket": paths}))
		return s.wsURL("/echo")
	case "bare":
		ln := listen(b)
		upg := gorilla.Upgrader{}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := upg.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			for {
				typ, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				if err := c.WriteMessage(typ, msg); err != nil {
					return
				}
			}
		})}
		var wg sync.WaitGroup
		wg.Go(func() { _ = srv.Serve(ln) })
		b.Cleanup(func() { _ = srv.Close(); wg.Wait() })
		return "ws://" + ln.Addr().String() + "/echo"
	}
	b.Fatalf("unknown server %q", kind)
	return ""
}

// BenchmarkEcho is a client's round trip, a 32-byte text message and its
// echo, through the full stack and through gorilla's bare echo server, on
// 1 and on 100 connections at once. The client's share of allocations is
// the same for both: the difference in allocs/op is the server's.
// cpu-ns/op is the process's user and system time per round trip, client
// included; on a loaded machine it varies less than ns/op, but still by
// more than most differences between the two.
func BenchmarkEcho(b *testing.B) {
	msg := []byte(strings.Repeat("x", 32))
	for _, conns := range []int{1, 100} {
		for _, kind := range []string{"bare", "full"} {
			b.Run(fmt.Sprintf("%s/conns=%d", kind, conns), func(b *testing.B) {
				url := startEchoServer(b, kind)
				cs := make([]*gorilla.Conn, conns)
				for i := range cs {
					c, _, err := gorilla.DefaultDialer.Dial(url, nil)
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { _ = c.Close() })
					cs[i] = c
				}
				// Each connection makes its share of b.N round trips, one
				// after another.
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				var wg sync.WaitGroup
				errs := make(chan error, conns)
				for i, c := range cs {
					n := b.N / conns
					if i < b.N%conns {
						n++
					}
					wg.Go(func() {
						buf := make([]byte, 64)
						for range n {
							if err := c.WriteMessage(gorilla.TextMessage, msg); err != nil {
								errs <- err
								return
							}
							_, r, err := c.NextReader()
							if err != nil {
								errs <- err
								return
							}
							if k, err := io.ReadFull(r, buf[:len(msg)]); err != nil || k != len(msg) {
								errs <- fmt.Errorf("echo: %d bytes, %v", k, err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
			})
		}
	}
}

// cpuTime returns the user and system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawDial opens a WebSocket to url with a hand-written handshake, so that
// the client holds nothing but its socket, makes one round trip (so that
// the connection's scope exists) and returns the socket.
func rawDial(url string) (net.Conn, error) {
	host, path, _ := strings.Cut(strings.TrimPrefix(url, "ws://"), "/")
	nc, err := net.Dial("tcp", host)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	fmt.Fprintf(nc, "GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, host, base64.StdEncoding.EncodeToString(key))
	_ = nc.SetDeadline(time.Now().Add(wait))
	br := bufio.NewReaderSize(nc, 256)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	// A masked text frame "hi" (mask zero), and its echo back.
	if _, err := nc.Write([]byte{0x81, 0x82, 0, 0, 0, 0, 'h', 'i'}); err != nil {
		nc.Close()
		return nil, err
	}
	echo := make([]byte, 4)
	if _, err := io.ReadFull(br, echo); err != nil || string(echo[2:]) != "hi" {
		nc.Close()
		return nil, fmt.Errorf("echo %q: %v", echo, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, nil
}

// BenchmarkIdleConns opens 2,000 idle connections (each after one round
// trip) to the full stack and to gorilla's bare echo server, and reports
// what one costs the process: heap bytes, goroutine stack bytes and
// goroutines. The client holds only its sockets. Each operation is one
// such measurement; run it with -benchtime=1x.
func BenchmarkIdleConns(b *testing.B) {
	const n = 2000
	for _, kind := range []string{"bare", "full"} {
		b.Run(kind, func(b *testing.B) {
			url := startEchoServer(b, kind)
			var heap, stack, gs float64
			for range b.N {
				before, g0 := settled()
				conns := make([]net.Conn, 0, n)
				for range n {
					nc, err := rawDial(url)
					if err != nil {
						b.Fatal(err)
					}
					conns = append(conns, nc)
				}
				after, g1 := settled()
				heap += float64(after.HeapInuse) - float64(before.HeapInuse)
				stack += float64(after.StackInuse) - float64(before.StackInuse)
				gs += float64(g1 - g0)
				for _, nc := range conns {
					nc.Close()
				}
			}
			per := float64(b.N * n)
			b.ReportMetric(heap/per, "heap-B/conn")
			b.ReportMetric(stack/per, "stack-B/conn")
			b.ReportMetric(gs/per, "goroutines/conn")
		})
	}
}

// settled collects garbage twice, so that stacks shrink and freed memory
// is returned, and reads the memory statistics and goroutine count.
func settled() (runtime.MemStats, int) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms, runtime.NumGoroutine()
}
