package main_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/internal/redistest"
)

// timersRun is one botserver of the timers test: the console adapter
// with timers on the Redis layer, serving the remind bot.
type timersRun struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	logs  *lockedLog
	done  chan struct{} // closed once its output was read to the end
}

// timerLog records the console's lines: when each reminder was said, by
// which of the processes, and the other answers.
type timerLog struct {
	mu      sync.Mutex
	fired   map[int][]time.Time
	byLife  map[int]int // reminder → the process (0, 1) that said it first
	order   []int       // reminders in the order they were first said
	set     int         // "Reminder ... set" answers
	other   []string
	changed chan struct{} // signalled after every line
}

func (l *timerLog) read(r io.Reader, life int, done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		now := time.Now()
		line := sc.Text()
		l.mu.Lock()
		switch _, text, _ := strings.Cut(line, "] "); {
		case strings.HasPrefix(text, "reminder t"):
			name, _, _ := strings.Cut(strings.TrimPrefix(text, "reminder t"), ":")
			n, err := strconv.Atoi(name)
			if err != nil {
				l.other = append(l.other, line)
				break
			}
			if len(l.fired[n]) == 0 {
				l.byLife[n] = life
				l.order = append(l.order, n)
			}
			l.fired[n] = append(l.fired[n], now)
		case strings.HasPrefix(text, "Reminder t"):
			l.set++
		default:
			l.other = append(l.other, line)
		}
		l.mu.Unlock()
		select {
		case l.changed <- struct{}{}:
		default:
		}
	}
}

// await waits until cond holds on the log, or fails the test after d.
func (l *timerLog) await(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		l.mu.Lock()
		ok := cond()
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-l.changed:
		case <-deadline:
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("%s: not within %v (%d set, %d fired, other lines: %q)", what, d, l.set, len(l.fired), l.other[:min(len(l.other), 5)])
		}
	}
}

// TestTimersAcrossASIGKILL: 10,000 reminders over 1,000 console
// conversations, scheduled through the remind bot of the real botserver
// with timers on the Redis layer, due over four seconds. The process is
// killed with SIGKILL while they fire and started again with the same
// config: every reminder is said, none before it is due, and a reminder
// is said twice only if the killed process had said it and the store
// had not recorded it settled when the process died (exactly those, read
// from the store before the restart), or if a process logged that it
// settled the timer after its lease ran out. The test logs the repeats
// and the lateness, which bounds nothing here: it grows with the
// machine's load (the killed process's claims come again once their
// lease ran out, on a restarted process).
func TestTimersAcrossASIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs botserver for seconds")
	}
	const n, convs, batch = 10_000, 1_000, 100
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	cfg := writeConfig(t, fmt.Sprintf(`layer: {backend: redis, redis: {url: %q, prefix: %q}}
console:
  timers: {poll_interval: 20ms, lease: 500ms, batch: %d}
routes:
  console: {bot: remind}
`, url, prefix, batch))
	l := &timerLog{fired: map[int][]time.Time{}, byLife: map[int]int{}, changed: make(chan struct{}, 1)}
	start := func(life int) *timersRun {
		cmd := exec.Command(binary, "-config", cfg)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		logs := &lockedLog{}
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r := &timersRun{cmd: cmd, stdin: stdin, logs: logs, done: make(chan struct{})}
		go l.read(stdout, life, r.done)
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("botserver %d logged:\n%s", life, logs.String())
			}
		})
		return r
	}

	first := start(0)
	// Far enough ahead for scheduling 10,000 reminders through stdin on a
	// busy machine to end before the first is due.
	t0 := time.Now().Add(8 * time.Second)
	due := make([]time.Time, n)
	w := bufio.NewWriter(first.stdin)
	for i := range n {
		due[i] = t0.Add(time.Duration(i) * 4 * time.Second / n)
		fmt.Fprintf(w, "@c%d remind t%d at %s r%d\n", i%convs, i, due[i].UTC().Format(time.RFC3339Nano), i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	l.await(t, time.Until(t0), "every reminder set before the first is due", func() bool { return l.set == n })

	// Kill once 40% were said: the process has reminders in hand.
	l.await(t, 30*time.Second, "40% said", func() bool { return len(l.fired) >= n*4/10 })
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	<-first.done
	l.mu.Lock()
	before := len(l.fired)
	l.mu.Unlock()
	killed := time.Now()

	// The killed process's record in the store: the timers it had not
	// settled, claimed or not. Those it had said already are the ones
	// that may come twice.
	rdb := redistest.Client(t, url)
	dueKey := prefix + "timers:console:due"
	unsettled := map[int]bool{}
	ids, err := rdb.ZRange(context.Background(), dueKey, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		_, name, _ := strings.Cut(id, "\x00")
		n, err := strconv.Atoi(strings.TrimPrefix(name, "t"))
		if err != nil {
			t.Fatalf("timer %q in the store", id)
		}
		unsettled[n] = true
	}
	// How recent were those: the last said before the kill is 1.
	l.mu.Lock()
	mayRepeat, recent := 0, 0
	for i, n := range l.order {
		if unsettled[n] {
			mayRepeat++
			recent = max(recent, len(l.order)-i)
		}
	}
	l.mu.Unlock()

	second := start(1)
	l.await(t, 30*time.Second, "every reminder said", func() bool { return len(l.fired) == n })
	restarted := time.Since(killed)

	// Nothing can fire again once the store holds no timer, claimed or
	// not; the line a conversation answers next comes after every line
	// already written.
	for {
		left, err := rdb.ZCard(context.Background(), dueKey).Result()
		if err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Since(killed) > 60*time.Second {
			t.Fatalf("%d timers still stored", left)
		}
		time.Sleep(20 * time.Millisecond) // polling Redis: nothing to await
	}
	fmt.Fprintln(second.stdin, "@end cancel none")
	l.await(t, 10*time.Second, "the last answer", func() bool {
		return slices.Contains(l.other, "[end] No reminder none.")
	})

	// A process that settled a timer after its lease ran out says so: on
	// a machine stalled for longer than the lease, another claim of the
	// timer may have delivered it too.
	late := map[int]bool{}
	for _, r := range []*timersRun{first, second} {
		for _, line := range strings.Split(r.logs.String(), "\n") {
			if !strings.Contains(line, "settled after its lease ran out") {
				continue
			}
			_, name, _ := strings.Cut(line, " name=t")
			name, _, _ = strings.Cut(name, " ")
			n, err := strconv.Atoi(name)
			if err != nil {
				t.Fatalf("log line %q", line)
			}
			late[n] = true
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	lateness := make([]time.Duration, 0, n)
	dups := 0
	for i := range n {
		at := l.fired[i]
		switch {
		case len(at) == 0:
			t.Errorf("reminder t%d never said", i)
			continue
		case late[i]:
		case len(at) > 2 || len(at) == 2 && (l.byLife[i] != 0 || !unsettled[i]):
			t.Errorf("reminder t%d said %d times, first by process %d, unsettled at the kill: %v; only a reminder the killed process said and had not settled may come twice", i, len(at), l.byLife[i], unsettled[i])
		case len(at) == 1 && l.byLife[i] == 0 && unsettled[i]:
			t.Errorf("reminder t%d said once, by the killed process, which had not settled it: it must come again", i)
		}
		dups += len(at) - 1
		if at[0].Before(due[i]) {
			t.Errorf("reminder t%d said %v before it was due", i, due[i].Sub(at[0]))
		}
		lateness = append(lateness, at[0].Sub(due[i]))
	}
	slices.Sort(lateness)
	q := func(p float64) time.Duration {
		return lateness[int(p*float64(len(lateness)-1))].Round(time.Millisecond)
	}
	t.Logf("%d reminders over %d conversations, %d said before the SIGKILL, all said %v after it; %d unsettled at the kill, %d of them said (all among the last %d said); said twice: %d; settled after the lease ran out: %d; lateness p50 %v, p90 %v, p99 %v, max %v",
		len(lateness), convs, before, restarted.Round(time.Millisecond), len(unsettled), mayRepeat, recent, dups, len(late), q(0.5), q(0.9), q(0.99), q(1))
}

// lockedLog collects a process's log lines.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
