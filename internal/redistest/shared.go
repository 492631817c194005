package redistest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard-bots/switchboard/internal/porttest"
)

// shared is the test binary's own redis-server, started the first time a
// test asks for the shared Redis and none answers: one per test process,
// so that every test of a package sees the same server, as it would see
// the one on 6379. It dies with the process (Pdeathsig): it is a child
// process, not a goroutine, so no leak check sees it.
var shared struct {
	once    sync.Once
	url     string
	err     error
	release func() // keeps the port reserved for the process's life
}

// Shared returns the URL of the Redis the test process shares: URLEnv's,
// else DefaultURL if it answers, else the process's own redis-server,
// started on first use. For a TestMain that points code without a
// testing.T (a runnable Example) at it: os.Setenv(URLEnv, url).
func Shared() (string, error) {
	if url := os.Getenv(URLEnv); url != "" {
		return url, nil
	}
	if ping(DefaultURL) == nil {
		return DefaultURL, nil
	}
	return sharedServer()
}

// sharedServer returns the URL of the test process's own redis-server,
// starting it on first use.
func sharedServer() (string, error) {
	shared.once.Do(func() { shared.url, shared.err = startShared() })
	return shared.url, shared.err
}

func startShared() (string, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return "", fmt.Errorf("nothing answers on 127.0.0.1:6379 and redis-server is not installed (apt-get install -y redis-server): %w", err)
	}
	dir, err := os.MkdirTemp("", "redistest")
	if err != nil {
		return "", err
	}
	port, release, err := porttest.Reserve()
	if err != nil {
		return "", err
	}
	shared.release = release
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"), "--save", "", "--appendonly", "no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if ping(url) == nil { // waits up to a second itself
			return url, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return "", errors.New("the test process's own redis-server did not answer within 10s")
}
