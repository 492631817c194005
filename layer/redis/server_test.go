package redis_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// server is a redis-server of the test's own, on a free loopback port,
// for what must not touch the shared server: restarts, per-server command
// counts, shards. It logs every write to an append-only file synced on
// each write, so that a restart loses nothing the server acknowledged.
type server struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
	URL  string
}

func startServer(t testing.TB, extra ...string) *server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (apt-get install -y redis-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	s := &server{t: t, port: port, dir: t.TempDir(), URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port)}
	s.start(extra...)
	t.Cleanup(s.stop)
	return s
}

func (s *server) start(extra ...string) {
	s.t.Helper()
	args := append([]string{
		"--port", fmt.Sprint(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always",
	}, extra...)
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.waitReady()
}

// waitReady polls until the server answers PING: a condition, checked
// every few milliseconds for at most ten seconds.
func (s *server) waitReady() {
	s.t.Helper()
	c := s.client()
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on port %d did not start: %v", s.port, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop kills the server and waits for it to exit.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// restart kills the server, as a crash would, and starts it again on the
// same port and data directory.
func (s *server) restart(extra ...string) {
	s.t.Helper()
	s.stop()
	s.start(extra...)
}

func (s *server) client() *goredis.Client {
	opt, _ := goredis.ParseURL(s.URL)
	opt.MaxRetries = -1
	return goredis.NewClient(opt)
}
