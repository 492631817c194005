package telegram_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// gated is an application whose handler tells entered when it starts on
// a message and waits for release; returned is set just before it
// returns.
type gated struct {
	entered  chan struct{}
	release  chan struct{}
	returned atomic.Bool
	handled  atomic.Int64
}

func newGated() *gated {
	return &gated{entered: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *gated) NewInstance(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) {
	return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
		if _, ok := ev.(telegram.Message); !ok {
			return nil
		}
		g.entered <- struct{}{}
		<-g.release
		g.handled.Add(1)
		g.returned.Store(true)
		return nil
	}), nil
}

func (g *gated) awaitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(wait):
		t.Fatal("the handler was never entered")
	}
}

// postAsync posts body with the right secret and sends the status on the
// returned channel.
func postAsync(t *testing.T, url, body string) <-chan int {
	ch := make(chan int, 1)
	go func() { ch <- post(t, url, secret, body) }()
	return ch
}

func webhookGated(t *testing.T, handlerWait time.Duration) (string, *gated) {
	t.Helper()
	srv := telegramtest.New(t)
	cfg := testConfig(srv)
	cfg.Mode = telegram.ModeWebhook
	cfg.Webhook.SecretToken = secret
	cfg.Webhook.HandlerWait = handlerWait
	a, _ := newAdapter(t, cfg)
	hook := newHookServer(t, a)
	g := newGated()
	start(t, a, g).ready(t)
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	return hook, g
}

// newHookServer serves a's webhook handler on loopback.
func newHookServer(t *testing.T, a *telegram.Adapter) string {
	t.Helper()
	srv := &http.Server{Handler: a.WebhookHandler()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// A webhook request is answered 200 only once its update's handler has
// returned.
func TestWebhookAnswersOnlyOnceHandled(t *testing.T) {
	hook, g := webhookGated(t, wait)
	resp := postAsync(t, hook, update)
	g.awaitEntered(t)
	// The handler is held: no answer may come. A wrong adapter would have
	// answered at once, on queuing; a tenth of a second is plenty to see it.
	select {
	case code := <-resp:
		t.Fatalf("answered %d while the handler was still running", code)
	case <-time.After(100 * time.Millisecond):
	}
	close(g.release)
	if code := <-resp; code != http.StatusOK || !g.returned.Load() {
		t.Fatalf("answered %d (handler returned: %v), want 200 after the handler returned", code, g.returned.Load())
	}
}

// An update not handled within webhook.handler_wait is answered 503, so
// that Telegram sends it again; the retry of an update handled meanwhile
// is answered 200 without handling it twice.
func TestWebhookUnhandledInTimeIs5xx(t *testing.T) {
	hook, g := webhookGated(t, 50*time.Millisecond)
	began := time.Now()
	resp := postAsync(t, hook, update)
	g.awaitEntered(t)
	if code := <-resp; code != http.StatusServiceUnavailable {
		t.Fatalf("answered %d past the handler wait, want 503", code)
	}
	if d := time.Since(began); d > wait {
		t.Fatalf("answered after %v", d)
	}
	// A retry while the first handling still runs waits for it, and
	// times out too: it must not start a second handling.
	if code := post(t, hook, secret, update); code != http.StatusServiceUnavailable {
		t.Fatalf("retry during the handling answered %d, want 503", code)
	}
	close(g.release)
	deadline := time.After(wait)
	for g.handled.Load() == 0 {
		select {
		case <-g.entered:
			t.Fatal("the retry started a second handling")
		case <-deadline:
			t.Fatal("never handled")
		case <-time.After(time.Millisecond):
		}
	}
	if code := post(t, hook, secret, update); code != http.StatusOK {
		t.Fatalf("retry after the handling answered %d, want 200", code)
	}
	if n := g.handled.Load(); n != 1 {
		t.Fatalf("handled %d times, want once", n)
	}
}

// A user who blocked the bot: Send returns the typed refusal, no event is
// posted, the conversation goes on (its next message is answered once the
// user unblocks the bot) and other chats are answered meanwhile.
func TestBlockedUserIsARefusalNotAnEvent(t *testing.T) {
	srv := telegramtest.New(t)
	srv.Block(66)
	rec := newRecorder()
	rec.reply = true
	a, _ := newAdapter(t, testConfig(srv))
	start(t, a, rec)
	srv.Text(66, 66, "one")
	srv.Text(7, 7, "hi")
	rec.await(t, "the refusal", func() bool { return len(rec.sendErrs[66]) == 1 })
	rec.mu.Lock()
	err := rec.sendErrs[66][0]
	rec.mu.Unlock()
	var re *adapters.RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("Send returned %v, want an *adapters.RefusedError", err)
	}
	want := adapters.RefusedError{Adapter: "tg", Method: "sendMessage", Code: "403",
		Description: "Forbidden: bot was blocked by the user", Temporary: false}
	if got := *re; got.Err == nil || (adapters.RefusedError{Adapter: got.Adapter, Method: got.Method, Code: got.Code,
		Description: got.Description, Temporary: got.Temporary}) != want {
		t.Fatalf("refusal %+v, want %+v with the APIError", got, want)
	}
	var ae *telegram.APIError
	if !errors.As(err, &ae) || ae.Code != 403 || !errors.Is(err, adapters.ErrRefused) || !errors.Is(err, telegram.ErrForbidden) {
		t.Fatalf("%v: errors.As/Is do not find the APIError, ErrRefused and ErrForbidden", err)
	}
	srv.WaitCalls(t, "sendMessage", 1)
	if got := srv.Texts(7); len(got) != 1 || got[0] != "re: hi" {
		t.Fatalf("chat 7 got %q", got)
	}

	srv.Unblock(66)
	srv.Text(66, 66, "two")
	rec.await(t, "the next message", func() bool { return rec.texts["two"] == 1 })
	if got := srv.Texts(66); len(got) != 1 || got[0] != "re: two" {
		t.Fatalf("chat 66 got %q after unblocking, want the answer to its next message", got)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, ev := range rec.events {
		if ev.Type() == telegram.TypeError {
			t.Fatalf("a %s event was posted without error_events", ev.Type())
		}
	}
	if n := rec.instances.Load(); n != 2 {
		t.Fatalf("%d instances, want one per chat: the refusal must not end the conversation", n)
	}
}

// chat.say goes to the scope's chat and forum topic, as no reply.
func TestSayInTheScopesTopic(t *testing.T) {
	srv := telegramtest.New(t)
	a, _ := newAdapter(t, testConfig(srv))
	app := scope.ApplicationFunc(func(_ context.Context, _ *scope.Scope, conn scope.Conn) (scope.Instance, error) {
		return scope.HandlerFunc(func(ctx context.Context, ev event.Event) error {
			if m, ok := ev.(event.ChatMessage); ok {
				return conn.Send(ctx, event.Say{Text: "said: " + m.ChatText()})
			}
			return nil
		}), nil
	})
	start(t, a, app)
	srv.TopicText(-1001, 5, 9, "hi")
	p := srv.WaitCalls(t, "sendMessage", 1)[0].Params
	if p.Get("chat_id") != "-1001" || p.Get("message_thread_id") != "5" || p.Get("text") != "said: hi" ||
		p.Has("reply_to_message_id") {
		t.Fatalf("sendMessage %v, want the topic's chat and thread, the text, and no reply", p)
	}
}

// Factory decodes the section into a Config and names the adapter after
// the section unless the section names it.
func TestFactory(t *testing.T) {
	srv := telegramtest.New(t)
	ad, err := telegram.Factory(adapters.Setup{Name: "support", Decode: func(v any) error {
		*v.(*telegram.Config) = telegram.Config{Token: telegram.Secret(srv.Token()), Endpoint: srv.Endpoint()}
		return nil
	}})
	if err != nil || ad.Name() != "support" {
		t.Fatalf("Factory: %v, %v; want an adapter named support", ad, err)
	}
	bad := errors.New("line 3: unknown key")
	if _, err := telegram.Factory(adapters.Setup{Name: "x", Decode: func(any) error { return bad }}); !errors.Is(err, bad) {
		t.Fatalf("Factory with a bad section: %v", err)
	}
	if _, err := telegram.Factory(adapters.Setup{Name: "x", Decode: func(any) error { return nil }}); !errors.Is(err, telegram.ErrNoToken) {
		t.Fatalf("Factory without a token: %v", err)
	}
}
