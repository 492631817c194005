package counter_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/internal/redistest"
)

// lockedBuffer collects a process's output from its copying goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBotserverCountsAcrossSIGKILL: the counter in the real botserver,
// on Telegram (a fake Bot API) with the Redis session store, is killed
// with SIGKILL and started again: the count goes on.
func TestBotserverCountsAcrossSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs botserver")
	}
	bin := filepath.Join(t.TempDir(), "botserver")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/botserver").CombinedOutput(); err != nil {
		t.Fatalf("build botserver: %v\n%s", err, out)
	}
	_, prefix := redisClient(t) // deletes the sessions when the test ends
	url := redistest.URL(t)
	tg := telegramtest.New(t)
	cfg := filepath.Join(t.TempDir(), "bot.yaml")
	yaml := fmt.Sprintf(`telegram: {token: %q, endpoint: %q, polling: {timeout: 1s}}
routes:
  telegram:
    bot: counter
    middleware:
      - sessions: {store: redis, url: %q, prefix: %q}
`, tg.Token(), tg.Endpoint(), url, prefix)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "-config", cfg)
		out := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("botserver's output:\n%s", out)
			}
		})
		return cmd
	}
	const chat = 77
	sent := 0
	say := func(want int) int {
		t.Helper()
		id := tg.Text(chat, chat, "hi")
		sent++
		if _, err := tg.AwaitCalls("sendMessage", sent, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		texts := tg.Texts(chat)
		if got := texts[len(texts)-1]; got != "#"+strconv.Itoa(want) {
			t.Fatalf("answer %q; want #%d", got, want)
		}
		return id
	}

	first := start()
	say(1)
	say(2)
	last := say(3)
	// Telegram is told an update is done at the next poll; the kill comes
	// once it was, as it may come at any time after.
	if err := tg.AwaitConfirmed(last, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	start()
	say(4)
	say(5)
}
