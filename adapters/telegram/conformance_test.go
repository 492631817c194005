package telegram_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// platform is the adapter kit's view of the fake Bot API: conversation
// "a" is the private chat of user 1000+'a'. It implements every
// capability of the kit: the adapter sends chat.say, pushes
// telegram.send with a chat_id, gets 403 "bot was blocked by the user"
// from a blocked chat, confirms an update (by offset, or by a webhook's
// 2xx) only once handled, and polls again after a dropped connection.
type platform struct {
	srv *telegramtest.Server
	mu  sync.Mutex
	n   int // sendMessage calls already returned by Reply
}

var (
	_ adaptertest.SayPlatform     = (*platform)(nil)
	_ adaptertest.PushPlatform    = (*platform)(nil)
	_ adaptertest.AddressPlatform = (*platform)(nil)
	_ adaptertest.RefusePlatform  = (*platform)(nil)
	_ adaptertest.AckPlatform     = (*platform)(nil)
	_ adaptertest.DropPlatform    = (*platform)(nil)
	_ adaptertest.DropPlatform    = (*webhookPlatform)(nil)
)

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

func (p *platform) SaysChat() {}

func (p *platform) PushEvent(conv, text string) event.Event {
	return telegram.Send{ChatID: chatOf(conv), Text: text}
}

func (p *platform) Address(conv string) string { return strconv.FormatInt(chatOf(conv), 10) }

// Refuse makes the fake answer every message to conv's chat 403
// "Forbidden: bot was blocked by the user".
func (p *platform) Refuse(_ testing.TB, conv string) { p.srv.Block(chatOf(conv)) }

// Acked counts conv's updates the adapter confirmed: below the offset of
// a getUpdates, or answered 2xx by the webhook.
func (p *platform) Acked(_ testing.TB, conv string) int { return p.srv.Confirmed(chatOf(conv)) }

// Drop fails the long poll in flight, and every other open connection.
func (p *platform) Drop(t testing.TB) {
	t.Helper()
	if err := p.srv.AwaitPoll(adaptertest.Timeout); err != nil {
		t.Fatal(err)
	}
	p.srv.Drop()
}

func harness(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
	srv := telegramtest.New(t)
	a, _ := newAdapter(t, testConfig(srv))
	return adapters.NewHost(a, adapters.WithScopes(cfg)), &platform{srv: srv}
}

func TestConformance(t *testing.T) { adaptertest.Run(t, harness) }

// webhookPlatform is the fake Bot API pushing updates to the adapter's
// webhook handler.
type webhookPlatform struct {
	platform
	hook *httptest.Server
}

// SayBad posts to the webhook what Telegram never sends and a forger
// might: a wrong secret token, a body that is not JSON, and an update
// whose message is not an object.
func (p *webhookPlatform) SayBad(t testing.TB) {
	t.Helper()
	defer http.DefaultClient.CloseIdleConnections()
	for _, c := range []struct {
		secret, body string
		want         int
	}{
		{"wrong", update, http.StatusUnauthorized},
		{secret, "{not json", http.StatusBadRequest},
		{secret, `{"update_id":1000000,"message":"not a message object"}`, http.StatusBadRequest},
	} {
		if code := post(t, p.hook.URL, c.secret, c.body); code != c.want {
			t.Errorf("webhook answered %d to %s, want %d", code, c.body, c.want)
		}
	}
}

// Drop breaks the fake's connections to the webhook: a push in flight
// fails, and the fake posts it again on a new connection.
func (p *webhookPlatform) Drop(testing.TB) { p.hook.CloseClientConnections() }

func webhookHarness(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
	srv := telegramtest.New(t)
	// The webhook's URL goes into the adapter's config, so the server is
	// up before the adapter exists, and finds its handler once it does.
	var handler atomic.Pointer[http.Handler]
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(hook.Close)
	c := testConfig(srv)
	c.Mode = telegram.ModeWebhook
	c.Webhook.URL = hook.URL
	c.Webhook.SecretToken = secret
	c.Webhook.DeleteOnStop = true
	a, _ := newAdapter(t, c)
	h := a.WebhookHandler()
	handler.Store(&h)
	return adapters.NewHost(a, adapters.WithScopes(cfg)), &webhookPlatform{platform: platform{srv: srv}, hook: hook}
}

func TestConformanceWebhook(t *testing.T) { adaptertest.Run(t, webhookHarness) }
