package main_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "botserver-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "botserver")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version=test", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build botserver: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bot.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func exitCode(err error) int {
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(binary, "-version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "botserver test" {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestBadConfigExitsTwoWithFileAndLine(t *testing.T) {
	for name, yaml := range map[string]string{
		"unknown key":   "websocket:\n  addr: 127.0.0.1:0\n  colour: blue\nroutes:\n  websocket: {bot: wschat}\n",
		"wrong type":    "websocket:\n  addr: 127.0.0.1:0\n  read_limit: big\nroutes:\n  websocket: {bot: wschat}\n",
		"missing token": "console: {}\ntelegram:\n  mode: polling\nroutes:\n  telegram: {bot: echo}\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, yaml)
			want := regexp.MustCompile(regexp.QuoteMeta(path) + `:[23]: `)
			for _, args := range [][]string{{"-config", path}, {"check", "-config", path}} {
				cmd := exec.Command(binary, args...)
				cmd.Env = append(os.Environ(), "TELEGRAM_TOKEN=")
				out, err := cmd.CombinedOutput()
				if code := exitCode(err); code != 2 {
					t.Fatalf("%v: exit %d, want 2\n%s", args, code, out)
				}
				if !want.Match(out) {
					t.Fatalf("%v: output does not name %s and the line:\n%s", args, path, out)
				}
			}
		})
	}
}

func TestCheckAcceptsTheExample(t *testing.T) {
	cmd := exec.Command(binary, "check", "-config", "../../botserver.example.yaml")
	cmd.Env = append(os.Environ(), "TELEGRAM_TOKEN=1:x", "SLACK_BOT_TOKEN=xoxb-1", "SLACK_APP_TOKEN=xapp-1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// The real binary serves a WebSocket chat and stops on SIGTERM: clients
// get 1001 and the process exits 0.
func TestServesAndStopsGracefully(t *testing.T) {
	path := writeConfig(t, `
websocket: {addr: "127.0.0.1:0"}
routes:
  websocket:
    paths:
      - {path: /ws/chat/, bot: wschat}
shutdown: {grace: 5s}
`)
	cmd := exec.Command(binary, "-config", path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := bufio.NewScanner(stderr)
	addr := ""
	listening := regexp.MustCompile(`listening on (\S+);`)
	for addr == "" && lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatal("botserver never said where it listens")
	}
	go func() {
		for lines.Scan() { // keep the pipe drained
		}
	}()

	c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/ws/chat/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "Welcome, Anonymous!" {
		t.Fatalf("got %q, %v", msg, err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ReadMessage()
	if ce, ok := errors.AsType[*gorilla.CloseError](err); !ok || ce.Code != gorilla.CloseGoingAway {
		t.Fatalf("after SIGTERM: %v, want close 1001", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v, want 0", err)
	}
}
