package main

import (
	"context"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	wsa "github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunsAgainstBothServers runs every measurement briefly against
// in-process servers: the figures must be there and plausible.
func TestRunsAgainstBothServers(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := wsa.New(wsa.Config{}, wsa.WithListener(ln))
	if err != nil {
		t.Fatal(err)
	}
	h := adapters.NewHost(a, adapters.WithScopes(scope.Config{}))
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), fullApp(l)) }()
	<-h.Ready()
	defer func() { _ = h.Shutdown(context.Background()); <-done }()
	bare := httptest.NewServer(bareHandler())
	defer bare.Close()

	msg := strings.Repeat("x", 32)
	for name, addr := range map[string]string{"full": ln.Addr().String(), "bare": strings.TrimPrefix(bare.URL, "http://")} {
		r, err := echoRun(addr, 10, 200*time.Millisecond, msg)
		if err != nil {
			t.Fatalf("%s echo: %v", name, err)
		}
		if r.rate <= 0 || r.p50 <= 0 || r.p99 < r.p50 {
			t.Errorf("%s echo: implausible %+v", name, r)
		}
	}
	r, err := broadcastRun(ln.Addr().String(), 5, 200*time.Millisecond, msg)
	if err != nil {
		t.Fatal(err)
	}
	if r.rate <= 0 || r.p99 < r.p50 {
		t.Errorf("broadcast: implausible %+v", r)
	}
}

func TestSummarize(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	r := summarize(lat, 2*time.Second)
	if r.rate != 50 || r.p50 != 51*time.Millisecond || r.p99 != 100*time.Millisecond {
		t.Errorf("summarize: %+v", r)
	}
	if got := summarize(nil, time.Second); got.rate != 0 {
		t.Errorf("summarize of nothing: %+v", got)
	}
}

func TestResidentBytes(t *testing.T) {
	n, err := residentBytes(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if n <= 0 {
		t.Errorf("resident bytes of this process: %d", n)
	}
}
