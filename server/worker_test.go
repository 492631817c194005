package server_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/console"
	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/server"
)

// terminal is a console adapter's far side: lines typed in, lines read
// out.
type terminal struct {
	in    *io.PipeWriter
	lines chan string
}

func newTerminal(t *testing.T) (*terminal, server.Option) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	term := &terminal{in: inW, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			term.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { inW.Close(); outW.Close() })
	return term, server.WithStdio(inR, outW)
}

func (term *terminal) say(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(term.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

func (term *terminal) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-term.lines:
		if got != want {
			t.Fatalf("terminal shows %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("terminal never showed %q", want)
	}
}

func redisPrefix(t *testing.T) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "sbtest" + hex.EncodeToString(b)
}

// A bot in one server hands a job to a worker in another, on a shared
// Redis layer, and passes the answer on.
func TestWorkerAnswersAJobFromAnotherServer(t *testing.T) {
	layerYAML := fmt.Sprintf("layer: {backend: redis, redis: {url: %q, prefix: %s}}\n", redistest.URL(t), redisPrefix(t))
	term, stdio := newTerminal(t)
	start(t, layerYAML+`
console: {}
routes:
  console: {bot: report}
`, stdio)
	start(t, layerYAML+`
routes:
  channel:
    channels:
      report.jobs: {bot: report-worker}
`, server.AsWorker("report.jobs"))

	term.say(t, "@ada /report apple pies")
	term.expect(t, "[ada] Working on a report on apple pies...")
	term.expect(t, "[ada] Report #1 on apple pies: 9 letters, all in order.")
	term.say(t, "@bob /report tea")
	term.expect(t, "[bob] Working on a report on tea...")
	term.expect(t, "[bob] Report #2 on tea: 3 letters, all in order.")
}

// Any process on the layer can make an adapter deliver an outbound event
// by sending it to the adapter's push channel.
func TestPushThroughTheLayer(t *testing.T) {
	term, stdio := newTerminal(t)
	s, _ := start(t, "console: {}\nroutes:\n  console: {bot: echo}\n", stdio)
	ctx := context.Background()
	if err := s.Layer().Send(ctx, adapters.PushChannel("console"), console.Send{Conversation: "ops", Text: "deploy done"}); err != nil {
		t.Fatal(err)
	}
	term.expect(t, "[ops] deploy done")
	if !strings.HasPrefix(adapters.PushChannel("telegram"), "push.") {
		t.Fatal("push channel naming changed")
	}
}
