package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/internal/porttest"
)

// URLEnv names the variable that points the tests at a Redis of the
// operator's choice, database included: redis://host:port/db.
const URLEnv = "SWITCHBOARD_REDIS_URL"

// DefaultURL is the Redis the tests use when URLEnv is unset and it
// answers: database 0 on the default port.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL returns the URL of a Redis the test may share with others: URLEnv's
// (the test fails if nothing answers there: it was asked for), else
// DefaultURL if it answers, else a redis-server of the test process's own,
// started on first use and shared by the process's tests (skipping the
// test, naming the package, when redis-server is not installed). Tests on a shared Redis keep to a key prefix of their own and
// delete their keys.
func URL(t testing.TB) string {
	t.Helper()
	if url := os.Getenv(URLEnv); url != "" {
		if err := ping(url); err != nil {
			t.Fatalf("no Redis at %s=%s: %v", URLEnv, url, err)
		}
		return url
	}
	if ping(DefaultURL) == nil {
		return DefaultURL
	}
	url, err := sharedServer()
	if err != nil {
		t.Skip(err)
	}
	return url
}

// ping reports whether a Redis answers at url within a second.
func ping(url string) error {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return err
	}
	opt.MaxRetries = -1
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// Server is a redis-server of one test's own.
type Server struct {
	URL  string // redis://127.0.0.1:PORT/0
	Addr string // 127.0.0.1:PORT
	dir  string
}

// Start starts a redis-server on a free loopback port, with extra
// arguments ("--maxmemory", "2mb"), no persistence, and stops it when the
// test ends, showing its log if the test failed. The test is skipped when
// redis-server is not installed, naming the Debian package.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skipf("redis-server is not installed (apt-get install -y redis-server): %v", err)
	}
	s := &Server{dir: t.TempDir()}
	var err error
	for range 3 { // a port free a moment ago may be taken meanwhile
		port := porttest.Port(t)
		s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		s.URL = "redis://" + s.Addr + "/0"
		if err = s.start(t, port, extra); err == nil {
			return s
		}
	}
	t.Fatalf("start redis-server: %v", err)
	return nil
}

func (s *Server) start(t testing.TB, port int, extra []string) error {
	logFile := filepath.Join(s.dir, "redis.log")
	args := append([]string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--logfile", logFile, "--save", "", "--appendonly", "no"}, extra...)
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			if log, err := os.ReadFile(logFile); err == nil {
				t.Logf("redis-server %s logged:\n%s", s.Addr, log)
			}
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			return fmt.Errorf("redis-server exited: %v", err)
		default:
		}
		if ping(s.URL) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("redis-server did not answer within 10s")
		}
		// ping waits up to a second itself: this loop does not spin.
		time.Sleep(10 * time.Millisecond)
	}
}
