package main_test

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
)

var (
	stuckOnce sync.Once
	stuckBin  string
	stuckErr  error
)

// stuckServer builds testdata/stuckserver, a botserver of its own whose
// "stuck" bot hangs in its handler deaf to its context, as a user builds
// theirs: the built-in registry plus a bot, and server.Main.
func stuckServer(t *testing.T) string {
	t.Helper()
	stuckOnce.Do(func() {
		stuckBin = filepath.Join(filepath.Dir(binary), "stuckserver")
		out, err := exec.Command("go", "build", "-o", stuckBin, "./testdata/stuckserver").CombinedOutput()
		if err != nil {
			stuckErr = err
			t.Logf("%s", out)
		}
	})
	if stuckErr != nil {
		t.Fatalf("build stuckserver: %v", stuckErr)
	}
	return stuckBin
}

// stuckRun is a running stuckserver with a handler stuck in a
// conversation.
type stuckRun struct {
	cmd      *exec.Cmd
	mu       sync.Mutex
	logs     strings.Builder
	stopping chan struct{} // closed when it says it is stopping
	exited   chan error
}

func (r *stuckRun) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.String()
}

// startStuck runs the stuckserver with grace and gets its handler stuck.
func startStuck(t *testing.T, grace string) *stuckRun {
	t.Helper()
	path := writeConfig(t, `
websocket: {addr: "127.0.0.1:0"}
routes:
  websocket:
    paths:
      - {path: /stuck/, bot: stuck}
shutdown: {grace: `+grace+`}
`)
	r := &stuckRun{cmd: exec.Command(stuckServer(t), "-config", path), stopping: make(chan struct{}), exited: make(chan error, 1)}
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.exited
		if t.Failed() {
			t.Logf("stuckserver logged:\n%s", r.log())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		said := false
		for sc.Scan() {
			if !said && strings.HasPrefix(sc.Text(), "botserver: stopping") {
				said = true
				close(r.stopping)
			}
			r.mu.Lock()
			r.logs.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		r.exited <- r.cmd.Wait()
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(15 * time.Second):
		t.Fatal("stuckserver never said where it listens")
	}
	c, _, err := gorilla.DefaultDialer.Dial("ws://"+a+"/stuck/", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.WriteMessage(gorilla.TextMessage, []byte("hang")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "stuck" {
		t.Fatalf("got %q, %v; want the handler to say it is stuck", msg, err)
	}
	return r
}

// wait returns how the process exited, failing after limit.
func (r *stuckRun) wait(t *testing.T, limit time.Duration) error {
	t.Helper()
	select {
	case err := <-r.exited:
		r.exited <- err // for the cleanup
		return err
	case <-time.After(limit):
		t.Fatalf("still running %v after the signal", limit)
		return nil
	}
}

// A handler that ignores its context cannot hold the process: SIGTERM
// ends it within shutdown.grace + 1 s, exit 1, and the log names the
// scope that was still running and what it was handling.
func TestStopEndsWithinGraceDespiteAStuckHandler(t *testing.T) {
	const grace = time.Second
	r := startStuck(t, "1s")
	start := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := r.wait(t, grace+time.Second)
	took := time.Since(start)
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if took < grace {
		t.Errorf("exited after %v, before the grace period of %v ended", took, grace)
	}
	logs := r.log()
	stuck := regexp.MustCompile(`scope still running at the shutdown deadline.*adapter=websocket.*websocket\.receive`)
	if !stuck.MatchString(logs) {
		t.Errorf("no log line names the stuck scope:\n%s", logs)
	}
	t.Logf("exited %v after SIGTERM (grace %v)", took, grace)
}

// A second signal during the grace period stops at once, exit 1.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	r := startStuck(t, "30s")
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The second signal must come once the first was taken: wait for the
	// server to say it is stopping.
	select {
	case <-r.stopping:
	case <-time.After(5 * time.Second):
		t.Fatal("the server never said it was stopping")
	}
	start := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := r.wait(t, 2*time.Second)
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(r.log(), "second signal; stopping now") {
		t.Errorf("the log does not say why it stopped at once:\n%s", r.log())
	}
	t.Logf("exited %v after the second signal", time.Since(start))
}
