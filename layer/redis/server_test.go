package redis_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/internal/porttest"
)

// server is a redis-server of the test's own, on a free loopback port,
// for what must not touch the shared server: restarts, per-server command
// counts, shards. It logs every write to an append-only file synced on
// each write, so that a restart loses nothing the server acknowledged.
type server struct {
	t    testing.TB
	port int
	dir  string
	args []string // what every start passes to redis-server
	cmd  *exec.Cmd
	URL  string
	Addr string // host:port
}

func startServer(t testing.TB, extra ...string) *server {
	t.Helper()
	s := newServer(t)
	s.args = append(s.dataArgs(), extra...)
	s.start()
	return s
}

// newServer picks a port and a directory for a server that the caller
// configures and starts, and stops it when the test ends, showing its log
// if the test failed.
func newServer(t testing.TB) *server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (apt-get install -y redis-server): %v", err)
	}
	port := porttest.Port(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := &server{t: t, port: port, dir: t.TempDir(), Addr: addr, URL: "redis://" + addr + "/0"}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			s.showLog()
		}
	})
	return s
}

// dataArgs are the arguments of a data node: this port and directory, no
// snapshots, every write synced to the append-only file.
func (s *server) dataArgs() []string {
	return []string{
		"--port", fmt.Sprint(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--logfile", s.logFile(),
		"--save", "", "--appendonly", "yes", "--appendfsync", "always",
	}
}

func (s *server) logFile() string { return filepath.Join(s.dir, "redis.log") }

// showLog logs the end of the server's log, which says why a topology did
// not form or a failover did not happen.
func (s *server) showLog() {
	b, err := os.ReadFile(s.logFile())
	if err != nil {
		return
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	s.t.Logf("log of redis-server on %s:\n%s", s.Addr, bytes.TrimSpace(b))
}

func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", s.args...)
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
func (s *server) restart() {
	s.t.Helper()
	s.stop()
	s.start()
}

// pause stops the server with SIGSTOP, as a hung or swapped-out server
// would: connections stay open, nothing is answered. It is resumed when
// the test ends, before the cleanups registered earlier close clients.
func (s *server) pause() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(s.resume)
}

// resume continues a paused server.
func (s *server) resume() {
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
}

func (s *server) client() *goredis.Client {
	opt, _ := goredis.ParseURL(s.URL)
	opt.MaxRetries = -1
	return goredis.NewClient(opt)
}
