package main_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/internal/porttest"
)

// aliasBombYAML is a "billion laughs" config: nine levels of nine aliases
// of the level below, 862 bytes standing for 9^8 routes.
func aliasBombYAML() string {
	var b strings.Builder
	b.WriteString("routes:\n  l0: &l0 {bot: echo}\n")
	for i := 1; i <= 8; i++ {
		var ents []string
		for j := range 9 {
			ents = append(ents, fmt.Sprintf("k%d: *l%d", j, i-1))
		}
		fmt.Fprintf(&b, "  l%d: &l%d {channels: {%s}}\n", i, i, strings.Join(ents, ", "))
	}
	return b.String()
}

func TestCheckRefusesAnAliasBombQuicklyInLittleMemory(t *testing.T) {
	path := writeConfig(t, aliasBombYAML())
	cmd := exec.Command(binary, "check", "-config", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if exitCode(err) != 2 {
		t.Fatalf("exit %d, want 2: %s", exitCode(err), stderr.String())
	}
	if !regexp.MustCompile(`bot\.yaml:\d+: aliases expand too far`).MatchString(stderr.String()) {
		t.Fatalf("the error does not name the file and line: %s", stderr.String())
	}
	// Peak resident memory, as the kernel counted it for the process
	// (kilobytes on Linux).
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	// Linux counts in a child's peak the RSS of the process that started
	// it, at the exec (the child shares its memory until then), so the
	// bound is above this test process's own peak.
	self := selfPeakRSS(t)
	t.Logf("check on the alias bomb: %v, peak RSS %d KB (this test process's peak: %d KB)", took, rss, self)
	if rss > self+100*1024 {
		t.Fatalf("check peaked at %d KB: the expansion is not bounded", rss)
	}
	if took > 5*time.Second {
		t.Fatalf("check took %v", took)
	}
}

const (
	tgToken  = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	password = "hunter2-Pa55"
)

func TestNoSecretInTheOutputOfCheckOrAFailedStart(t *testing.T) {
	configs := map[string]string{
		"redis password that does not parse": `
layer: {backend: redis, redis: {url: "redis://admin:` + password + `%zz@127.0.0.1:6379/0"}}
websocket: {addr: "127.0.0.1:0"}
routes: {websocket: {bot: wschat}}
`,
		"token in the endpoint": `
telegram:
  token: ${TG_TOKEN}
  endpoint: https://api.example.org/bot` + tgToken + `/%s
routes: {telegram: {bot: echo}}
`,
		"token under a misspelt key": `
telegram:
  token: ${TG_TOKEN}
  tokn: ` + tgToken + `
routes: {telegram: {bot: echo}}
`,
		"redis url in a shard list": `
layer: {backend: redis, redis: {mode: shards, shards: ["redis://:` + password + `@127.0.0.1:bad/0"]}}
websocket: {addr: "127.0.0.1:0"}
routes: {websocket: {bot: wschat}}
`,
	}
	for name, yaml := range configs {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, yaml)
			for _, args := range [][]string{{"check", "-config", path}, {"-config", path}} {
				cmd := exec.Command(binary, args...)
				cmd.Env = append(cmd.Environ(), "TG_TOKEN="+tgToken)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				if exitCode(err) != 2 {
					t.Fatalf("%v: exit %d, want 2: %s", args, exitCode(err), out.String())
				}
				for _, secret := range []string{password, tgToken, tgToken[10:]} {
					if strings.Contains(out.String(), secret) {
						t.Fatalf("%v printed a secret:\n%s", args, out.String())
					}
				}
				if !strings.Contains(out.String(), "[redacted]") && !strings.Contains(out.String(), "tokn") {
					t.Fatalf("%v: nothing shows where the secret was:\n%s", args, out.String())
				}
			}
		})
	}
}

func TestEnabledNullIsAnError(t *testing.T) {
	path := writeConfig(t, `
telegram:
  token: `+tgToken+`
  enabled: ${TELEGRAM_ENABLED}
websocket: {addr: "127.0.0.1:0"}
routes: {telegram: {bot: echo}, websocket: {bot: wschat}}
`)
	for _, v := range []string{"null", "~", "Null"} {
		cmd := exec.Command(binary, "check", "-config", path)
		cmd.Env = append(cmd.Environ(), "TELEGRAM_ENABLED="+v)
		out, err := cmd.CombinedOutput()
		if exitCode(err) != 2 || !strings.Contains(string(out), "bot.yaml:4:") || !strings.Contains(string(out), "takes true or false") {
			t.Fatalf("TELEGRAM_ENABLED=%s: exit %d: %s", v, exitCode(err), out)
		}
	}
}

// logLines starts the binary on yaml and returns its stderr once it has
// been stopped by SIGTERM after load ran against its WebSocket address.
func runUnder(t *testing.T, bin, yaml string, load func(addr string)) string {
	t.Helper()
	cmd := exec.Command(bin, "-config", writeConfig(t, yaml))
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	var logs bytes.Buffer
	var mu sync.Mutex
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		var line []byte
		for {
			n, err := pr.Read(buf)
			mu.Lock()
			logs.Write(buf[:n])
			mu.Unlock()
			line = append(line, buf[:n]...)
			if m := listening.FindSubmatch(line); m != nil && addr != nil {
				addr <- string(m[1])
				addr = nil
			}
			if len(line) > 1<<16 {
				line = line[len(line)-4096:]
			}
			if err != nil {
				return
			}
		}
	}()
	a := addr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case at := <-a:
		load(at)
	case <-time.After(15 * time.Second):
		t.Fatal("never said where it listens")
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	pw.Close()
	<-done
	mu.Lock()
	defer mu.Unlock()
	return logs.String()
}

var suppressed = regexp.MustCompile(`suppressed (\d+) similar lines" like="scope refused"`)

func TestTenThousandRejectedRequestsLogABoundedNumberOfLines(t *testing.T) {
	const n = 10_000
	logs := runUnder(t, binary, `
websocket: {addr: "127.0.0.1:0"}
routes: {websocket: {paths: [{path: /chat/, bot: wschat}]}}
`, func(addr string) {
		getMany(t, "http://"+addr+"/nope/", n)
	})
	lines := strings.Count(logs, "\n")
	refused := strings.Count(logs, `msg="scope refused"`)
	total := refused
	for _, m := range suppressed.FindAllStringSubmatch(logs, -1) {
		k, _ := strconv.Atoi(m[1])
		total += k
	}
	t.Logf("%d rejected requests: %d log lines, %d of them \"scope refused\", the rest counted", n, lines, refused)
	if lines > 40 {
		t.Fatalf("%d rejected requests wrote %d log lines:\n%s", n, lines, logs[:min(len(logs), 4000)])
	}
	if total != n {
		t.Fatalf("lines plus suppressed counts = %d, want %d:\n%s", total, n, logs)
	}
}

// getMany makes n GET requests to prefix followed by 0 … n-1, eight at a
// time, reading each answer.
func getMany(t *testing.T, prefix string, n int) {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				resp, err := c.Get(prefix + strconv.Itoa(i))
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
}

// Thousands of requests whose handler panics: the stack is logged once, and
// the rest of the panics are counted, not written out.
func TestPanicsLogTheirStackOnce(t *testing.T) {
	const n = 3_000
	logs := runUnder(t, stuckServer(t), `
websocket: {addr: "127.0.0.1:0"}
routes: {http: {paths: [{path: /panic/, bot: panic}]}, websocket: {bot: echo}}
`, func(addr string) {
		getMany(t, "http://"+addr+"/panic/?n=", n)
	})
	stacks := strings.Count(logs, "panicky: every request panics")
	frames := strings.Count(logs, "runtime/debug.Stack")
	t.Logf("%d panics: %d log lines, %d naming the panic, %d stacks written out, %d bytes of log",
		n, strings.Count(logs, "\n"), stacks, frames, len(logs))
	if frames > 2 {
		t.Fatalf("%d panics wrote %d stacks:\n%.4000s", n, frames, logs)
	}
	if lines := strings.Count(logs, "\n"); lines > 60 || len(logs) > 64<<10 {
		t.Fatalf("%d panics wrote %d lines, %d bytes:\n%.4000s", n, lines, len(logs), logs)
	}
}

// stuckConns opens n conversations with the stuck bot and gets each
// handler stuck.
func stuckConns(t *testing.T, addr string, n int) []*gorilla.Conn {
	t.Helper()
	var cs []*gorilla.Conn
	for range n {
		c := wsDial(t, addr, "/stuck/")
		if err := c.WriteMessage(gorilla.TextMessage, []byte("hang")); err != nil {
			t.Fatal(err)
		}
		if got := wsRead(t, c); got != "stuck" {
			t.Fatalf("got %q", got)
		}
		cs = append(cs, c)
	}
	return cs
}

// readyz polls /readyz until it answers code, and returns the body.
func readyz(t *testing.T, ops string, code int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + ops + "/readyz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == code {
				return string(b)
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz answers %d %s, want %d", resp.StatusCode, b, code)
			}
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // polling a server in another process: no event to await
	}
}

func TestStuckHandlersAreNamedAndMakeTheServerUnready(t *testing.T) {
	ops := porttest.Addr(t)
	logs := runUnder(t, stuckServer(t), `
websocket: {addr: "127.0.0.1:0", scopes: {max_scopes: 5}}
ops: {addr: "`+ops+`", slow_handler: 200ms}
routes: {websocket: {paths: [{path: /stuck/, bot: stuck}]}}
shutdown: {grace: 200ms}
`, func(addr string) {
		readyz(t, ops, http.StatusOK)
		stuckConns(t, addr, 5)
		body := readyz(t, ops, http.StatusServiceUnavailable)
		if !strings.Contains(body, "websocket handlers: 5 of max_scopes 5 conversations are held by handlers running over 200ms") {
			t.Errorf("/readyz says %q", body)
		}
		if _, resp, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/stuck/", nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("a sixth conversation at the bound: %v %v, want 503", resp, err)
		}
		m, _ := http.Get("http://" + ops + "/metrics")
		b, _ := io.ReadAll(m.Body)
		m.Body.Close()
		if !strings.Contains(string(b), `switchboard_handlers_slow{adapter="websocket"} 5`) {
			t.Errorf("no slow handler gauge in /metrics")
		}
	})
	if n := len(regexp.MustCompile(`msg="handler running long" adapter=websocket key=\S+ event=websocket.receive`).FindAllString(logs, -1)); n != 5 {
		t.Fatalf("%d warnings naming the stuck handlers, want 5:\n%s", n, logs)
	}
}

func TestATimeoutFreesTheScopesOfStuckHandlers(t *testing.T) {
	logs := runUnder(t, stuckServer(t), `
websocket: {addr: "127.0.0.1:0", scopes: {max_scopes: 3}}
routes:
  websocket:
    paths: [{path: /stuck/, bot: stuck, middleware: [{timeout: 100ms}]}]
shutdown: {grace: 200ms}
`, func(addr string) {
		// Twice the bound, one after the other: each stuck handler is cut
		// loose at its limit, and its conversation's slot is free again.
		for range 2 {
			cs := stuckConns(t, addr, 3)
			for _, c := range cs {
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, _, err := c.ReadMessage(); err == nil {
					t.Fatal("the conversation of a timed-out handler goes on")
				}
			}
		}
	})
	if n := strings.Count(logs, `msg="handler timed out; left running, cut off from its scope"`); n != 6 {
		t.Fatalf("%d time-out lines, want 6:\n%s", n, logs)
	}
}

// selfPeakRSS returns this process's peak resident set (VmHWM), in KB.
func selfPeakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no VmHWM in /proc/self/status")
	return 0
}
