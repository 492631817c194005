package fakeslack_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSignMatchesSlackGo: the fake's signatures verify with slack-go's
// verifier, and a changed body or secret does not.
func TestSignMatchesSlackGo(t *testing.T) {
	body := []byte(`{"type":"event_callback"}`)
	verify := func(secret string, body []byte, at time.Time) error {
		ts, sig := fakeslack.Sign(fakeslack.SigningSecret, at, []byte(`{"type":"event_callback"}`))
		h := http.Header{"X-Slack-Request-Timestamp": {ts}, "X-Slack-Signature": {sig}}
		sv, err := slackapi.NewSecretsVerifier(h, secret)
		if err != nil {
			return err
		}
		_, _ = sv.Write(body)
		return sv.Ensure()
	}
	if err := verify(fakeslack.SigningSecret, body, time.Now()); err != nil {
		t.Fatalf("a good signature failed: %v", err)
	}
	if verify("other", body, time.Now()) == nil {
		t.Fatal("a wrong secret verified")
	}
	if verify(fakeslack.SigningSecret, []byte(`{"type":"x"}`), time.Now()) == nil {
		t.Fatal("a changed body verified")
	}
	if verify(fakeslack.SigningSecret, body, time.Now().Add(-6*time.Minute)) == nil {
		t.Fatal("an old timestamp verified")
	}
}

// TestWebAPIThroughSlackGo: the fake serves the real client, scripts
// failures and records calls.
func TestWebAPIThroughSlackGo(t *testing.T) {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	f := fakeslack.New(t, fakeslack.Options{})
	api := slackapi.New(fakeslack.BotToken, slackapi.OptionAPIURL(f.APIURL), slackapi.OptionHTTPClient(&http.Client{Transport: tr}))
	ctx := context.Background()
	auth, err := api.AuthTestContext(ctx)
	if err != nil || auth.UserID != fakeslack.BotUserID || auth.TeamID != fakeslack.TeamID {
		t.Fatalf("auth.test: %+v, %v", auth, err)
	}
	f.Fail("chat.postMessage", fakeslack.Failure{Status: 429, RetryAfter: 3})
	_, _, err = api.PostMessageContext(ctx, "C1", slackapi.MsgOptionText("x", false))
	if rl, ok := err.(*slackapi.RateLimitedError); !ok || rl.RetryAfter != 3*time.Second {
		t.Fatalf("scripted 429: %v", err)
	}
	f.FailChannel("CX", "channel_not_found")
	if _, _, err = api.PostMessageContext(ctx, "CX", slackapi.MsgOptionText("x", false)); err == nil || err.Error() != "channel_not_found" {
		t.Fatalf("scripted channel_not_found: %v", err)
	}
	_, ts, err := api.PostMessageContext(ctx, "C1", slackapi.MsgOptionText("hello", false), slackapi.MsgOptionTS("1.0"))
	if err != nil || ts == "" {
		t.Fatalf("post: %q %v", ts, err)
	}
	if c := f.WaitCalls(t, "chat.postMessage", 1)[0]; c.Channel() != "C1" || c.Text() != "hello" || c.Thread() != "1.0" || c.Params["ts"] != ts {
		t.Fatalf("recorded %+v", c)
	}
	if n := len(f.Calls("chat.postMessage")); n != 3 {
		t.Fatalf("%d calls recorded, want 3 (failures included)", n)
	}
	bad := slackapi.New("xoxb-wrong", slackapi.OptionAPIURL(f.APIURL), slackapi.OptionHTTPClient(&http.Client{Transport: tr}))
	if _, err := bad.AuthTestContext(ctx); err == nil || err.Error() != "invalid_auth" {
		t.Fatalf("wrong token: %v", err)
	}
}

// PostLimit refuses the posts to a channel past its burst, and not those
// to another channel.
func TestPostLimit(t *testing.T) {
	f := fakeslack.New(t, fakeslack.Options{PostLimit: &fakeslack.PostLimit{PerSecond: 1, Burst: 3}})
	api := slackapi.New(fakeslack.BotToken, slackapi.OptionAPIURL(f.APIURL))
	for i := range 3 {
		if _, _, err := api.PostMessage("C1", slackapi.MsgOptionText("x", false)); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	_, _, err := api.PostMessage("C1", slackapi.MsgOptionText("x", false))
	if rl, ok := errors.AsType[*slackapi.RateLimitedError](err); !ok || rl.RetryAfter != time.Second {
		t.Fatalf("a fourth post at once: %v, want rate limited for 1s", err)
	}
	if _, _, err := api.PostMessage("C2", slackapi.MsgOptionText("x", false)); err != nil {
		t.Fatalf("another channel: %v", err)
	}
	if n := f.RateLimited(); n != 1 {
		t.Fatalf("RateLimited() = %d, want 1", n)
	}
}
