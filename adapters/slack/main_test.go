package slack_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is one adapter, run by a Host, wired to one fake Slack.
type env struct {
	fake     *fakeslack.Server
	a        *slack.Adapter
	h        *adapters.Host
	endpoint string // the adapter's HTTP base URL in http mode
	logs     *syncBuffer
}

// syncBuffer collects logs from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv makes an adapter in mode against a fresh fake, and its Host.
// edit may change the config before the adapter is made; opts are
// slack.Options for the adapter and adapters.HostOptions for the Host.
func newEnv(t testing.TB, mode slack.Mode, edit func(*slack.Config), opts ...any) *env {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections) // registered first, so it runs last
	fake := fakeslack.New(t, fakeslack.Options{})
	cfg := slack.Config{
		Name: "slk", Mode: mode, BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken,
		SigningSecret: fakeslack.SigningSecret, APIURL: fake.APIURL,
	}
	if edit != nil {
		edit(&cfg)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	aopts := []slack.Option{slack.WithLogger(log), slack.WithHTTPClient(&http.Client{Transport: tr})}
	hopts := []adapters.HostOption{adapters.WithLogger(log)}
	for _, o := range opts {
		switch o := o.(type) {
		case slack.Option:
			aopts = append(aopts, o)
		case adapters.HostOption:
			hopts = append(hopts, o)
		default:
			t.Fatalf("newEnv: option %T", o)
		}
	}
	a, err := slack.New(cfg, aopts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e := &env{fake: fake, a: a, h: adapters.NewHost(a, hopts...), logs: logs}
	if mode == slack.ModeHTTP {
		srv := httptest.NewServer(a.Handler())
		t.Cleanup(srv.Close)
		e.endpoint = srv.URL
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), fakeslack.BotToken) || strings.Contains(logs.String(), fakeslack.AppToken) ||
			strings.Contains(logs.String(), fakeslack.SigningSecret) {
			t.Error("a token or the signing secret reached the log")
		}
	})
	return e
}

// platform adapts an env to the conformance kit.
type platform struct {
	*env
	mu      sync.Mutex
	replies int
}

func channelOf(conv string) string { return "C" + strings.ToUpper(conv) }

func (p *platform) Say(t testing.TB, conv, text string) {
	t.Helper()
	msg := p.fake.Message(channelOf(conv), "U"+strings.ToUpper(conv), text)
	if p.endpoint == "" {
		p.fake.PushEvent(msg)
		return
	}
	if res, _ := p.fake.PostEvent(t, p.endpoint+"/slack/events", msg); res.Status != http.StatusOK {
		t.Fatalf("event answered %d %q", res.Status, res.Body)
	}
}

func (p *platform) Reply(t testing.TB) (string, string) {
	t.Helper()
	p.mu.Lock()
	p.replies++
	n := p.replies
	p.mu.Unlock()
	c := p.fake.WaitCalls(t, "chat.postMessage", n)[n-1]
	return strings.ToLower(strings.TrimPrefix(c.Channel(), "C")), c.Text()
}

func (p *platform) SayBad(t testing.TB) {
	t.Helper()
	if p.endpoint == "" {
		ids := []string{
			p.fake.PushRaw("events_api", []byte(`{"type":"event_callback","event":`)),
			p.fake.PushRaw("no_such_envelope", []byte(`{}`)),
			p.fake.PushRaw("interactive", []byte(`[1,2]`)),
		}
		p.fake.WaitAcked(t, ids...)
		return
	}
	for name, res := range badRequests(t, p.env) {
		if res.got != res.want {
			t.Errorf("%s: answered %d, want %d", name, res.got, res.want)
		}
	}
}

func harness(mode slack.Mode) adaptertest.Harness {
	return func(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
		// The kit's order case posts 30 replies per channel; Slack's
		// 1/s pace is tested on its own.
		e := newEnv(t, mode, func(c *slack.Config) {
			c.PostRate = 1000
			c.RateLimits = map[string]float64{"chat.postMessage": 1e6}
		}, adapters.WithScopes(cfg))
		return e.h, &platform{env: e}
	}
}

func TestConformanceSocketMode(t *testing.T) { adaptertest.Run(t, harness(slack.ModeSocket)) }
func TestConformanceHTTP(t *testing.T)       { adaptertest.Run(t, harness(slack.ModeHTTP)) }

type fakeslackPostOption = fakeslack.PostOption

func retry(n int) fakeslack.PostOption { return fakeslack.AsRetry(n) }

func inbox(n int) adapters.HostOption { return adapters.WithScopes(scope.Config{InboxSize: n}) }
