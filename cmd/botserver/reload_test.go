package main_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

// The reload test's load.
const (
	reloadClients = 100 // WebSocket clients connected across the reloads
	reloadChats   = 50  // Telegram chats with live conversations
)

// reloadConfig is the config of the reload test: the WebSocket chat on
// /ws/chat/ with a rate limit, the echo bot on Telegram, and extra for the
// routes and settings a reload adds.
func reloadConfig(tg *telegramtest.Server, rate, extra string) string {
	return fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0"}
telegram: {token: %q, endpoint: %q, polling: {timeout: 1s}}
routes:
  websocket:
    paths:
      - {path: /ws/chat/, bot: wschat, middleware: [{ratelimit: %s}]}
%s
  telegram: {bot: echo}
shutdown: {grace: 5s}
`, tg.Token(), tg.Endpoint(), rate, extra)
}

// logWatch follows a botserver's log lines, so that a test can wait for
// one.
type logWatch struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced on each line
	proc  *os.Process   // the botserver, when runBotserver started it
}

func watchLogs(t *testing.T, cmd *exec.Cmd) *logWatch {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	w := &logWatch{more: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			close(w.more)
			w.more = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			w.mu.Lock()
			t.Logf("botserver logged:\n%s", strings.Join(w.lines, "\n"))
			w.mu.Unlock()
		}
	})
	return w
}

// await returns the first line from the from-th on that contains want,
// and its index.
func (w *logWatch) await(t *testing.T, from int, want string) (string, int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		w.mu.Lock()
		for i := from; i < len(w.lines); i++ {
			if line := w.lines[i]; strings.Contains(line, want) {
				w.mu.Unlock()
				return line, i
			}
		}
		more := w.more
		w.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("botserver never logged %q", want)
		}
	}
}

func (w *logWatch) count(want string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, l := range w.lines {
		if strings.Contains(l, want) {
			n++
		}
	}
	return n
}

// chatRound sends one message from every client and checks each echo.
func chatRound(t *testing.T, clients []*gorilla.Conn, round string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for i, c := range clients {
		wg.Go(func() {
			text := fmt.Sprintf("%s-%d", round, i)
			if err := c.WriteMessage(gorilla.TextMessage, []byte(text)); err != nil {
				errs <- fmt.Errorf("client %d: write: %w", i, err)
				return
			}
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, got, err := c.ReadMessage()
			if err != nil {
				errs <- fmt.Errorf("client %d: read after %s: %w", i, round, err)
				return
			}
			if want := "Anonymous: " + text; string(got) != want {
				errs <- fmt.Errorf("client %d: got %q, want %q", i, got, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// sendChats queues one update in every chat and returns the last
// update_id.
func sendChats(tg *telegramtest.Server, round string) (last int) {
	for c := range reloadChats {
		chat := int64(7000 + c)
		last = tg.Text(chat, chat, fmt.Sprintf("%s-%d", round, c))
	}
	return last
}

// The real binary reloads on SIGHUP while 100 WebSocket clients and 50
// Telegram conversations are live: a new route answers at once, a new
// rate limit applies to the scopes that start after the reload while the
// live ones keep theirs, no client is disconnected and no update is lost;
// then a broken config on SIGHUP is refused and the reloaded one serves
// on.
func TestReloadOnSIGHUPKeepsConnectionsAndConversations(t *testing.T) {
	t.Parallel()
	tg := telegramtest.New(t)
	path := writeConfig(t, reloadConfig(tg, "{per_second: 1000, burst: 1000}", ""))
	cmd := exec.Command(binary, "-config", path)
	logs := watchLogs(t, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, _ := logs.await(t, 0, "listening on ")
	addr := listening.FindStringSubmatch(line)[1]

	clients := make([]*gorilla.Conn, reloadClients)
	for i := range clients {
		clients[i] = wsDial(t, addr, "/ws/chat/")
		if got := wsRead(t, clients[i]); got != "Welcome, Anonymous!" {
			t.Fatalf("client %d: got %q", i, got)
		}
	}
	chatRound(t, clients, "before")
	sendChats(tg, "before")
	if err := tg.AwaitSent(reloadChats, 60*time.Second); err != nil {
		t.Fatal(err)
	}

	// Reload: a new route, and a rate limit of two events a scope (its
	// connect and one message) then one every 5 s. Updates keep arriving
	// meanwhile.
	if err := os.WriteFile(path, []byte(reloadConfig(tg, "{per_second: 0.2, burst: 2}",
		"      - {path: /ws/new/, bot: wschat}")), 0o600); err != nil {
		t.Fatal(err)
	}
	sendChats(tg, "during")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	_, at := logs.await(t, 0, "reload: applied")
	if n := logs.count("reload: adapter started"); n != 0 {
		t.Fatalf("%d adapters restarted; none's section changed", n)
	}
	last := sendChats(tg, "after")

	// The new route answers.
	fresh := wsDial(t, addr, "/ws/new/")
	if got := wsRead(t, fresh); got != "Welcome, Anonymous!" {
		t.Fatalf("the new route: got %q", got)
	}
	// The live clients keep the rate limit they started with: every one
	// is answered at once, twice over.
	chatRound(t, clients, "after1")
	chatRound(t, clients, "after2")
	// A client that connects now gets the new one: its first message is
	// answered, its second waits for a token, and is answered then.
	limited := wsDial(t, addr, "/ws/chat/")
	wsRead(t, limited)
	chatRound(t, []*gorilla.Conn{limited}, "one")
	if err := limited.WriteMessage(gorilla.TextMessage, []byte("two")); err != nil {
		t.Fatal(err)
	}
	// gorilla's reads cannot time out and go on: read on a goroutine.
	answer := make(chan string, 1)
	go func() {
		_ = limited.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, got, err := limited.ReadMessage()
		answer <- fmt.Sprintf("%s%v", got, err)
	}()
	select {
	case got := <-answer:
		t.Fatalf("a scope started after the reload answered %q past its burst of 2: the new rate limit is not applied", got)
	case <-time.After(500 * time.Millisecond):
	}
	if got := <-answer; got != "Anonymous: two<nil>" {
		t.Fatalf("the message past the burst, once its token came: %q", got)
	}

	// Every update of the 50 conversations is answered, once.
	if err := tg.AwaitConfirmed(last, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	checkChatAnswers(t, tg, "before", "during", "after")

	// A broken config is refused, with its errors, and the reloaded one
	// serves on.
	if err := os.WriteFile(path, []byte(reloadConfig(tg, "{per_second: 1000, burst: 1000}",
		"      - {path: /ws/broken/, bot: no-such-bot}")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	logs.await(t, at, "reload refused")
	if line, _ := logs.await(t, at, "reload: config error"); !strings.Contains(line, `no bot named \"no-such-bot\"`) {
		t.Fatalf("the refusal does not say why: %s", line)
	}
	last = sendChats(tg, "refused")
	if got := wsRead(t, wsDial(t, addr, "/ws/new/")); got != "Welcome, Anonymous!" {
		t.Fatalf("after a refused reload, the route of the running config: got %q", got)
	}
	chatRound(t, clients, "refused")
	if err := tg.AwaitConfirmed(last, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	checkChatAnswers(t, tg, "before", "during", "after", "refused")

	// Still graceful: SIGTERM closes every client with 1001, exit 0.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := c.ReadMessage(); !gorilla.IsCloseError(err, gorilla.CloseGoingAway) {
			t.Fatalf("client %d after SIGTERM: %v, want close 1001", i, err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v, want 0", err)
	}
	t.Logf("%d WebSocket clients kept across 2 reloads; %d Telegram answers", reloadClients, len(tg.Calls("sendMessage")))
}

// checkChatAnswers checks that every chat got exactly one answer to each
// round's update.
func checkChatAnswers(t *testing.T, tg *telegramtest.Server, rounds ...string) {
	t.Helper()
	seen := map[string]int{}
	for _, c := range tg.Calls("sendMessage") {
		if c.Status == http.StatusOK {
			seen[c.Params.Get("text")]++
		}
	}
	for _, round := range rounds {
		for c := range reloadChats {
			text := fmt.Sprintf("You said: %s-%d", round, c)
			if seen[text] != 1 {
				t.Fatalf("%q answered %d times, want once", text, seen[text])
			}
		}
	}
}

// `botserver reload -pid` signals a running botserver, after checking
// the file it is given: a broken one is refused there and never sent.
func TestReloadCommand(t *testing.T) {
	t.Parallel()
	ok := `
websocket: {addr: "127.0.0.1:0"}
routes:
  websocket: {paths: [{path: /ws/chat/, bot: wschat}]}
`
	path := writeConfig(t, ok)
	cmd := exec.Command(binary, "-config", path)
	logs := watchLogs(t, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	logs.await(t, 0, "listening on ")
	pid := fmt.Sprint(cmd.Process.Pid)

	broken := writeConfig(t, ok+"  telegram: {bot: nobody}\n")
	out, err := exec.Command(binary, "reload", "-pid", pid, "-config", broken).CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), "not signalled") {
		t.Fatalf("a broken file: exit %d, want 2 and no signal:\n%s", code, out)
	}
	if out, err := exec.Command(binary, "reload", "-pid", pid, "-config", path).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	logs.await(t, 0, "reload: applied")
	if n := logs.count("reload: reading"); n != 1 {
		t.Fatalf("%d reloads, want the one that passed check", n)
	}
	if out, err := exec.Command(binary, "reload").CombinedOutput(); exitCode(err) != 2 {
		t.Fatalf("no -pid: %v\n%s", err, out)
	}
}
