package matrix_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/matrix"
	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
)

// The child process of TestSIGKILL: an echo bot on the homeserver and
// store its environment names, running until it is killed.
func TestSIGKILLChild(t *testing.T) {
	hs := os.Getenv("MATRIX_TEST_CHILD_HOMESERVER")
	if hs == "" {
		t.Skip("run by TestSIGKILL in a child process")
	}
	cfg := matrix.Config{Homeserver: hs, AccessToken: matrix.Secret(os.Getenv("MATRIX_TEST_CHILD_TOKEN")),
		Store: os.Getenv("MATRIX_TEST_CHILD_STORE"), Sync: matrix.Sync{Timeout: time.Second},
		Retry: matrix.Retry{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}}
	h := adapters.NewHost(newAdapter(t, cfg, nil))
	type echo struct{ consumer.Chat }
	app := consumer.New(func() *echo { return &echo{} }, consumer.OnMessage(func(e *echo, ctx context.Context, m event.ChatMessage) error {
		return e.Reply(ctx, "echo: "+m.ChatText())
	}))
	go func() {
		<-h.Ready()
		fmt.Println("ready")
	}()
	_ = h.Run(context.Background(), app)
}

// startChild starts the child bot and waits until it is ready.
func startChild(t *testing.T, srv *matrixtest.Server, store string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSIGKILLChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), "MATRIX_TEST_CHILD_HOMESERVER="+srv.URL(),
		"MATRIX_TEST_CHILD_TOKEN="+srv.Token(), "MATRIX_TEST_CHILD_STORE="+store)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the child bot was not ready")
	}
	return cmd
}

// TestSIGKILL: a bot process killed with SIGKILL in the middle of a
// stream of messages, and a new process started on the same store file:
// every message is answered; a message is answered twice exactly when
// the first process answered it and had not stored it as handled when it
// was killed (its store lags its handlers by one write), and once
// otherwise.
func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	srv := matrixtest.New(t)
	room := roomOf("a")
	srv.Joined(room)
	store := filepath.Join(t.TempDir(), "matrix.json")
	first := startChild(t, srv, store)
	const n = 60
	ids := map[string]string{} // text → event id
	for i := range n / 2 {
		text := fmt.Sprint("m", i)
		ids[text] = srv.Say(room, user, text)
	}
	if _, err := srv.AwaitSent(n/4, timeout); err != nil {
		t.Fatal(err)
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL: no cleanup of any kind
		t.Fatal(err)
	}
	_ = first.Wait()
	answeredBefore := map[string]bool{}
	for _, s := range srv.Sent() {
		answeredBefore[strings.TrimPrefix(s.Body(), "echo: ")] = true
	}
	st, err := matrix.FileStore{Path: store}.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := matrixtest.Position(st.NextBatch)
	stored := func(text string) bool {
		return srv.EventPosition(ids[text]) <= pos || slices.Contains(st.Handled, ids[text])
	}

	for i := n / 2; i < n; i++ {
		text := fmt.Sprint("m", i)
		ids[text] = srv.Say(room, user, text)
	}
	startChild(t, srv, store)
	answers := map[string]int{}
	count := func() bool {
		clear(answers)
		for _, s := range srv.Sent() {
			answers[strings.TrimPrefix(s.Body(), "echo: ")]++
		}
		return len(answers) == n
	}
	began := time.Now()
	if !poll(20*time.Second, count) {
		var missing []string
		for text := range ids {
			if answers[text] == 0 {
				missing = append(missing, text)
			}
		}
		t.Fatalf("not answered: %v; stored at the kill: %+v (position %d)", missing, st, pos)
	}
	t.Logf("answered all %v after the second process was ready", time.Since(began))
	twice := 0
	for text := range ids {
		want := 1
		if answeredBefore[text] && !stored(text) {
			want = 2
			twice++
		}
		if answers[text] != want {
			t.Errorf("%s answered %d times, want %d (answered before the kill: %v, stored: %v)",
				text, answers[text], want, answeredBefore[text], stored(text))
		}
	}
	t.Logf("%d messages, the first process killed after %d answers: none lost, %d answered twice (handled after its last store write)",
		n, len(answeredBefore), twice)
}
