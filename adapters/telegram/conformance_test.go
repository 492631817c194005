package telegram_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/scope"
)

// platform is the adapter kit's view of the fake Bot API: conversation
// "a" is the private chat of user 1000+'a'.
type platform struct {
	srv *telegramtest.Server
	mu  sync.Mutex
	n   int // sendMessage calls already returned by Reply
}

func chatOf(conv string) int64 { return 1000 + int64(conv[0]) }

func (p *platform) Say(t testing.TB, conv, text string) {
	p.srv.Text(chatOf(conv), chatOf(conv), text)
}

func (p *platform) Reply(t testing.TB) (string, string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	calls, err := p.srv.AwaitCalls("sendMessage", p.n+1, adaptertest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	var ok []telegramtest.Call
	for _, c := range calls {
		if c.Status == http.StatusOK {
			ok = append(ok, c)
		}
	}
	c := ok[p.n]
	p.n++
	return string(rune(c.ChatID() - 1000)), c.Params.Get("text")
}

// SayBad sends an update whose message is not an object, and one that is
// not JSON at all through the webhook path's decoder: the poller must skip
// them and go on.
func (p *platform) SayBad(t testing.TB) {
	p.srv.AddUpdate("message", "not a message object")
	p.srv.AddUpdate("edited_message", map[string]any{"message_id": "x"})
}

func harness(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
	srv := telegramtest.New(t)
	a, _ := newAdapter(t, testConfig(srv))
	return adapters.NewHost(a, adapters.WithScopes(cfg)), &platform{srv: srv}
}

func TestConformance(t *testing.T) { adaptertest.Run(t, harness) }
