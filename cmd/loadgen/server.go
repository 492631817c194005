package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// The servers run in child processes so that the resident memory of each
// is its own, and so that the one measured second starts as fresh as the
// first.

// echo answers every message with itself.
type echo struct{ consumer.WebSocket }

func (e *echo) Receive(ctx context.Context, m websocket.Receive) error {
	if m.IsText() {
		return e.SendText(ctx, m.Text)
	}
	return e.SendBytes(ctx, m.Bytes)
}

// member relays every message to the whole room, encoded once.
type member struct{ consumer.WebSocket }

func (m *member) Connect(ctx context.Context, _ websocket.Connect) error {
	if err := m.Accept(ctx, ""); err != nil {
		return err
	}
	if err := m.GroupAdd(ctx, "room"); err != nil {
		return err
	}
	return m.SendText(ctx, "joined")
}

func (m *member) Receive(ctx context.Context, r websocket.Receive) error {
	return m.GroupSend(ctx, "room", wsa.NewBroadcast(r.Text))
}

func (m *member) Forward(ctx context.Context, b *wsa.Broadcast) error { return m.Send(ctx, b) }

// fullApp is the whole stack: protocol router, path router, consumers.
func fullApp(l consumer.Layer) scope.Application {
	paths := router.NewPathRouter()
	paths.Handle("/echo", consumer.New(func() *echo { return new(echo) }, consumer.On((*echo).Receive)))
	paths.Handle("/room", consumer.New(func() *member { return new(member) },
		consumer.On((*member).Connect), consumer.On((*member).Receive), consumer.On((*member).Forward)))
	return router.With(router.ByProtocol(router.Routes{"websocket": paths}), consumer.WithLayer(l))
}

// bareHandler is the baseline: gorilla's echo example, a goroutine per
// connection that reads and writes back, with default buffers.
func bareHandler() http.Handler {
	upg := gorilla.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	})
}

// serve runs one server kind on a loopback port, prints "ADDR host:port"
// (and, for the room server, the address of its ops listener after it),
// and then answers commands on stdin until it ends: "gc" collects garbage
// and returns freed memory to the system, so that resident memory reflects
// what is live; "goroutines" prints how many goroutines the process has.
// The room and centrifuge servers use the Redis at redisURL under prefix.
func serve(kind, redisURL, prefix string) error {
	raiseFileLimit()
	if path := os.Getenv("LOADGEN_CPUPROFILE"); path != "" {
		f, err := os.Create(fmt.Sprintf("%s.%s.%d", path, kind, os.Getpid())) // one file per server process
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var (
		addr string
		stop func()
	)
	switch kind {
	case "room":
		r, err := startRoomServer(context.Background(), redisURL, prefix, os.Stderr)
		if err != nil {
			return err
		}
		addr, stop = r.ws+" "+r.ops, func() { _ = r.stop() }
	case "centrifuge":
		c, err := startCentrifuge(redisURL, prefix, slog.New(slog.NewTextHandler(os.Stderr, nil)))
		if err != nil {
			return err
		}
		addr, stop = c.ws, func() { _ = c.stop() }
	case "full":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr = ln.Addr().String()
		l, err := memory.New(layer.Config{})
		if err != nil {
			return err
		}
		a, err := wsa.New(wsa.Config{}, wsa.WithListener(ln))
		if err != nil {
			return err
		}
		h := adapters.NewHost(a, adapters.WithScopes(scope.Config{MaxScopes: -1}),
			adapters.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
		go func() { _ = h.Run(context.Background(), fullApp(l)) }()
		<-h.Ready()
		stop = func() { _ = h.Shutdown(context.Background()); _ = l.Close() }
	case "bare":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr = ln.Addr().String()
		srv := &http.Server{Handler: bareHandler()}
		go func() { _ = srv.Serve(ln) }()
		stop = func() { _ = srv.Close() }
	default:
		return fmt.Errorf("unknown server kind %q", kind)
	}
	fmt.Printf("ADDR %s\n", addr)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "gc":
			runtime.GC()
			debug.FreeOSMemory()
			fmt.Println("ok")
		case "goroutines":
			fmt.Println(runtime.NumGoroutine())
		}
	}
	stop()
	return nil
}

// child is a server process.
type child struct {
	pid  int
	addr string
	ops  string // the room server's ops listener: /metrics
	in   io.WriteCloser
	out  *bufio.Scanner
	wait func() error
	warn *lineCounter // its standard error
}

// gc asks the child to collect garbage and waits until it has.
func (c *child) gc() error {
	if _, err := io.WriteString(c.in, "gc\n"); err != nil {
		return err
	}
	if !c.out.Scan() {
		return fmt.Errorf("server process ended")
	}
	return nil
}

// goroutines asks the child how many goroutines it has.
func (c *child) goroutines() (int, error) {
	if _, err := io.WriteString(c.in, "goroutines\n"); err != nil {
		return 0, err
	}
	if !c.out.Scan() {
		return 0, fmt.Errorf("server process ended")
	}
	return strconv.Atoi(c.out.Text())
}

// rss returns the child's resident memory in bytes.
func (c *child) rss() (int64, error) { return residentBytes(c.pid) }

func (c *child) stop() error {
	_ = c.in.Close()
	return c.wait()
}
