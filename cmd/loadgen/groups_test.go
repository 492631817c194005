package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/internal/redistest"
)

// startRooms runs n room servers in this process on one Redis, under a key
// prefix of the test's own, and returns their WebSocket addresses.
func startRooms(t *testing.T, n int) []string {
	t.Helper()
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	var addrs []string
	for range n {
		r, err := startRoomServer(t.Context(), url, prefix, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := r.stop(); err != nil {
				t.Errorf("room server: %v", err)
			}
		})
		addrs = append(addrs, r.ws)
	}
	return addrs
}

// The client speaks both protocols of the fan-out comparison: every
// member of a room receives each message, the room bot's senders not
// their own, centrifuge's theirs too.
func TestFanoutSpeaksBothProtocols(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	var cfAddrs []string
	for range serversPerKind {
		c, err := startCentrifuge(url, prefix, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.stop() })
		cfAddrs = append(cfAddrs, c.ws)
	}
	servers := map[string][]string{"room": startRooms(t, serversPerKind), "centrifuge": cfAddrs}
	for kind, addrs := range servers {
		p := fanoutProtocols[kind]
		r, err := fanoutRun(p, addrs, fanoutSpec{members: 20, roomSize: 5, senders: 1, sends: 100,
			duration: 500 * time.Millisecond, size: 32, drain: drainTime, pids: []int{os.Getpid()}})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		perSend := int64(4)
		if p.selfDelivery() {
			perSend = 5
		}
		if r.sent == 0 || r.expected != r.sent*perSend || r.received != r.expected || r.broken != 0 {
			t.Errorf("%s: sent %d, expected %d, received %d; want %d deliveries a send, all received", kind, r.sent, r.expected, r.received, perSend)
		}
		if r.p50 <= 0 || r.p99 < r.p50 || r.cpu <= 0 {
			t.Errorf("%s: implausible %+v", kind, r)
		}
	}
}

func TestCPUTime(t *testing.T) {
	before, err := cpuTime(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); { // spin: CPU time to measure
	}
	after, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 10*time.Millisecond {
		t.Errorf("50 ms of spinning took %v of CPU time", after-before)
	}
}

func TestMetricSum(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `# HELP switchboard_layer_group_skipped_total x
# TYPE switchboard_layer_group_skipped_total counter
switchboard_layer_group_skipped_total{group="room.a"} 3
switchboard_layer_group_skipped_total{group="room.b"} 4
switchboard_layer_messages_dropped_total{reason="backlog_full",type="room.message"} 5
switchboard_layer_messages_dropped_total{reason="no_handler",type="x"} 100
`)
	}))
	defer srv.Close()
	sum, names, err := metricSum(context.Background(), srv.URL, skipMetrics[0])
	if err != nil {
		t.Fatal(err)
	}
	if sum != 7 || strings.Join(names, ",") != "switchboard_layer_group_skipped_total" {
		t.Errorf("sum %v of %v, want 7 of the skipped counter", sum, names)
	}
	if sum, _, err := metricSum(context.Background(), srv.URL, skipMetrics[1]); err != nil || sum != 5 {
		t.Errorf("backlog_full drops: %v, %v; want 5", sum, err)
	}
}

func TestLineCounter(t *testing.T) {
	var out strings.Builder
	l := &lineCounter{w: &out}
	for i := range passOn + 5 {
		level := "INFO"
		if i%2 == 0 {
			level = "WARN"
		}
		// Written in two pieces: a line is counted once it is whole.
		io.WriteString(l, "time=x level="+level)
		io.WriteString(l, " msg=m\n")
	}
	n, last := l.counts()
	if n != (passOn+5+1)/2 || last != "time=x level=WARN msg=m" {
		t.Errorf("%d warnings, last %q", n, last)
	}
	if got := strings.Count(out.String(), "\n"); got != passOn {
		t.Errorf("%d lines passed on, want %d", got, passOn)
	}
}

func TestPushedText(t *testing.T) {
	for line, want := range map[string]string{
		`{"push":{"channel":"r1","pub":{"data":"123 4 xx","offset":1}}}`: "123 4 xx",
		`{"push":{"channel":"r1","pub":{"data":"a\"b"}}}`:                "", // escaped: left to the JSON decoder
		`{"id":3,"publish":{}}`:                                          "",
	} {
		got, ok := pushedText([]byte(line))
		if got != want || ok != (want != "") {
			t.Errorf("pushedText(%s) = %q, %v; want %q", line, got, ok, want)
		}
	}
}

// A room server holds a member in one goroutine (its connection's reader):
// its layer channel is served by the layer's one receiver per process,
// through botserver's whole stack of middleware.
func TestRoomServerGoroutinesPerMember(t *testing.T) {
	const n = 200
	addrs := startRooms(t, 1)
	before := runtime.NumGoroutine()
	members, err := joinMany(roomProto{}, n, func(k int) (string, string) { return addrs[0], roomName(k/10, false) })
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, m := range members {
			_ = m.c.Close()
		}
	}()
	// A scope's worker ends once its Connect was handled: wait for the
	// count to settle under the bound, for 10 s at most.
	var grown int
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if grown = runtime.NumGoroutine() - before; grown <= n+50 {
			break
		}
	}
	if grown > n+50 {
		t.Errorf("%d members grew the process by %d goroutines, want at most %d (one each and a constant)", n, grown, n+50)
	}
}
