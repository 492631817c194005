package telegram_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
)

const secret = "s3cret_Token-for-tests"

// webhookAdapter runs a webhook-mode adapter whose handler listens on
// 127.0.0.1; with setWebhook, the fake pushes its updates there.
func webhookAdapter(t *testing.T, srv *telegramtest.Server, rec *recorder, setWebhook bool, edit ...func(*telegram.Config)) (*httptest.Server, *logBuffer) {
	t.Helper()
	cfg := testConfig(srv)
	for _, e := range edit {
		e(&cfg)
	}
	cfg.Mode = telegram.ModeWebhook
	cfg.Webhook.SecretToken = secret
	cfg.Webhook.DeleteOnStop = true
	a, logs := newAdapter(t, cfg)
	hook := httptest.NewServer(a.WebhookHandler())
	t.Cleanup(hook.Close)
	if setWebhook {
		// The URL is only known once the listener is up, so the adapter
		// that sets the webhook is made now, with the same handler's URL.
		cfg.Webhook.URL = hook.URL
		a2, logs2 := newAdapter(t, cfg)
		hook.Config.Handler = a2.WebhookHandler()
		a, logs = a2, logs2
	}
	// Until Serve has set up, the handler answers 503 (Telegram keeps the
	// update): the tests begin once it accepts.
	start(t, a, rec).ready(t)
	return hook, logs
}

func post(t testing.TB, url, secretToken, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secretToken != "" {
		req.Header.Set(telegram.SecretHeader, secretToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const update = `{"update_id":77,"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"A"},"text":"hi"}}`

// A request with a wrong or missing secret gets 401 and creates no scope;
// the right secret gets 200 once the update is queued; a repeat of an
// accepted update gets 200 and is not handled again.
func TestWebhookSecret(t *testing.T) {
	srv := telegramtest.New(t)
	rec := newRecorder()
	hook, logs := webhookAdapter(t, srv, rec, false)
	defer http.DefaultClient.CloseIdleConnections()

	for _, bad := range []string{"", "wrong", secret + "x", strings.ToUpper(secret)} {
		if code := post(t, hook.URL, bad, update); code != http.StatusUnauthorized {
			t.Fatalf("secret %q: status %d, want 401", bad, code)
		}
	}
	if n := rec.instances.Load(); n != 0 {
		t.Fatalf("%d instances made for unauthenticated requests", n)
	}
	if code := post(t, hook.URL, secret, update); code != http.StatusOK {
		t.Fatalf("right secret: status %d", code)
	}
	if code := post(t, hook.URL, secret, update); code != http.StatusOK {
		t.Fatalf("repeated update: status %d", code)
	}
	if code := post(t, hook.URL, secret, `{"message":{}}`); code != http.StatusBadRequest {
		t.Fatalf("update without id: status %d, want 400", code)
	}
	rec.await(t, "the update", func() bool { return rec.texts["hi"] >= 1 })
	if n := rec.instances.Load(); n != 1 {
		t.Fatalf("%d instances, want 1", n)
	}
	rec.mu.Lock()
	n := rec.texts["hi"]
	rec.mu.Unlock()
	if n != 1 {
		t.Fatalf("the update was handled %d times", n)
	}
	if !strings.Contains(logs.String(), "wrong secret token") {
		t.Errorf("the refused requests were not logged")
	}
	noToken(t, srv, logs.String())
}

// With webhook.url set, Run registers the webhook (with its secret), the
// fake pushes updates, replies reach the fake, and Shutdown deletes the
// webhook.
func TestWebhookEndToEnd(t *testing.T) {
	srv := telegramtest.New(t)
	rec := newRecorder()
	rec.reply = true
	_, _ = webhookAdapter(t, srv, rec, true)
	if _, err := srv.AwaitWebhook(wait); err != nil {
		t.Fatal(err)
	}
	set := srv.Calls("setWebhook")
	if len(set) != 1 || set[0].Params.Get("secret_token") != secret {
		t.Fatalf("setWebhook calls: %+v", set)
	}
	last := 0
	for i, text := range []string{"one", "two", "three"} {
		last = srv.Text(int64(10+i%2), int64(10+i%2), text)
	}
	srv.WaitCalls(t, "sendMessage", 3)
	if got := strings.Join(srv.Texts(10), ","); got != "re: one,re: three" {
		t.Fatalf("chat 10 got %q", got)
	}
	for _, at := range srv.WebhookAttempts() {
		if at.Status != http.StatusOK {
			t.Fatalf("webhook attempt %+v", at)
		}
	}
	if err := srv.AwaitConfirmed(last, wait); err != nil {
		t.Fatal(err)
	}
}

// A request with a wrong secret gets its 401 with the connection closed,
// so that strangers hold no keep-alive connection to the webhook.
func TestWebhookStrangerKeepsNoConnection(t *testing.T) {
	srv := telegramtest.New(t)
	hook, _ := webhookAdapter(t, srv, newRecorder(), false)
	req, _ := http.NewRequest(http.MethodPost, hook.URL, strings.NewReader(update))
	req.Header.Set(telegram.SecretHeader, "wrong")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !res.Close {
		t.Fatalf("answered %d (close %v), want 401 and the connection closed", res.StatusCode, res.Close)
	}
}
