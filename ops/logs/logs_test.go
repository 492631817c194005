package logs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/ops/logs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestThrottleBoundsRepeatedLinesAndCountsTheRest(t *testing.T) {
	var buf bytes.Buffer
	clk := &clock{t: time.Unix(1000, 0)}
	th := logs.NewThrottle(slog.NewJSONHandler(&buf, nil), logs.ThrottleOptions{Burst: 5, Interval: time.Minute, Now: clk.Now})
	log := slog.New(th)
	for i := range 10_000 {
		log.Warn("request rejected", "from", fmt.Sprintf("10.0.0.%d", i%250))
	}
	log.Info("other")
	if got := len(lines(t, &buf)); got != 6 {
		t.Fatalf("10,000 warnings in one interval wrote %d lines, want 5 and the other line", got)
	}
	clk.Add(time.Minute)
	log.Warn("request rejected")
	ls := lines(t, &buf)
	if len(ls) != 8 {
		t.Fatalf("got %d lines after the interval, want 8 (summary + the new record): %s", len(ls), buf.String())
	}
	sum := ls[6]
	if sum["msg"] != "suppressed 9995 similar lines" || sum["like"] != "request rejected" || sum["suppressed"] != float64(9995) || sum["level"] != "WARN" {
		t.Fatalf("summary line = %v", sum)
	}
	if ls[7]["msg"] != "request rejected" {
		t.Fatalf("the new interval's first record was not passed: %v", ls[7])
	}
}

func TestThrottleFlushWritesThePendingCounts(t *testing.T) {
	var buf bytes.Buffer
	th := logs.NewThrottle(slog.NewJSONHandler(&buf, nil), logs.ThrottleOptions{Burst: 1})
	log := slog.New(th).With("component", "x")
	for range 3 {
		log.Error("boom")
	}
	if err := th.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ls := lines(t, &buf)
	if len(ls) != 2 || ls[1]["suppressed"] != float64(2) {
		t.Fatalf("lines = %v", ls)
	}
}

func TestThrottleBoundsDistinctMessages(t *testing.T) {
	var buf bytes.Buffer
	th := logs.NewThrottle(slog.NewJSONHandler(&buf, nil), logs.ThrottleOptions{Burst: 1, MaxMessages: 10})
	log := slog.New(th)
	for i := range 10_000 {
		log.Warn(fmt.Sprintf("rejected %d", i)) // a message that formats its values in
	}
	if got := len(lines(t, &buf)); got != 11 {
		t.Fatalf("10,000 distinct messages wrote %d lines, want 10 and one for the rest", got)
	}
}

func TestThrottleWritesEachStackOnce(t *testing.T) {
	var buf bytes.Buffer
	th := logs.NewThrottle(slog.NewJSONHandler(&buf, nil), logs.ThrottleOptions{Burst: 100})
	log := slog.New(th)
	stack := func(g int, addr string) string {
		return fmt.Sprintf("goroutine %d [running]:\nmain.handler(%s)\n\t/src/bot.go:42 +0x1d\n", g, addr)
	}
	log.Error("scope failed", "stack", stack(7, "0xc000012345"))
	log.Error("scope failed", "stack", stack(9, "0xc000099999"))
	log.Error("scope failed", "stack", "goroutine 3 [running]:\nmain.other()\n\t/src/bot.go:50 +0x1d\n")
	ls := lines(t, &buf)
	if len(ls) != 3 {
		t.Fatalf("lines = %v", ls)
	}
	if ls[0]["stack"] == nil || ls[1]["stack"] != nil || ls[2]["stack"] == nil {
		t.Fatalf("want the stack on the first record of each distinct stack only: %v", ls)
	}
	if ls[0]["stack_id"] != ls[1]["stack_id"] || ls[0]["stack_id"] == ls[2]["stack_id"] {
		t.Fatalf("stack ids: %v %v %v", ls[0]["stack_id"], ls[1]["stack_id"], ls[2]["stack_id"])
	}
}

const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

func TestRedactorMasksSecrets(t *testing.T) {
	r := logs.Redactor{}.With("s3cr3t-value", "on")
	cases := map[string]string{
		`url "redis://admin:hunter2%zz@127.0.0.1:6379/0": invalid`: "hunter2",
		`dial redis://:pw@with@at@host:1`:                          "pw@with@at",
		"endpoint https://api.telegram.org/bot" + token + "/getMe": token,
		"token " + strings.TrimPrefix(token, "1") + " and more":    "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
		"the secret is s3cr3t-value.":                              "s3cr3t-value",
		`amqp://guest@host/`:                                       "guest",
	}
	for in, secret := range cases {
		got := r.String(in)
		if strings.Contains(got, secret) || !strings.Contains(got, logs.Masked) {
			t.Errorf("String(%q) = %q: %q not masked", in, got, secret)
		}
	}
	if got := r.String("enabled: on, user alice at redis://127.0.0.1:6379"); got != "enabled: on, user alice at redis://127.0.0.1:6379" {
		t.Errorf("text without secrets changed: %q", got)
	}
	if got := r.String("redis://admin:pw@host"); !strings.Contains(got, "admin") {
		t.Errorf("the user name is not a secret: %q", got)
	}
}

func TestThrottleRedacts(t *testing.T) {
	var buf bytes.Buffer
	red := logs.Redactor{}.With("configured-secret")
	log := slog.New(logs.NewThrottle(slog.NewJSONHandler(&buf, nil), logs.ThrottleOptions{Redactor: &red}))
	log.With("url", "redis://u:p4ss@h").Error("failed with "+token,
		"err", fmt.Errorf("bad configured-secret"), slog.Group("g", "k", token))
	if out := buf.String(); strings.Contains(out, "p4ss") || strings.Contains(out, token) || strings.Contains(out, "configured-secret") {
		t.Fatalf("secret in log: %s", out)
	}
}
