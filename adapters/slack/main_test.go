package slack_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/event"
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

// platform adapts an env to the conformance kit: conversation "a" is
// channel "CA". Both modes say chat.say, push slack.send naming its
// channel and meet Slack's not_in_channel refusal; socketPlatform and
// httpPlatform add what differs between the modes.
type platform struct {
	*env
	mu      sync.Mutex
	replies int
}

var (
	_ interface {
		adaptertest.SayPlatform
		adaptertest.AddressPlatform
		adaptertest.RefusePlatform
		adaptertest.AckPlatform
		adaptertest.DropPlatform
	} = (*socketPlatform)(nil)
	_ interface {
		adaptertest.SayPlatform
		adaptertest.AddressPlatform
		adaptertest.RefusePlatform
		adaptertest.AckPlatform
	} = (*httpPlatform)(nil)
)

func channelOf(conv string) string { return "C" + strings.ToUpper(conv) }

func (p *platform) Reply(t testing.TB) (string, string) {
	t.Helper()
	p.mu.Lock()
	p.replies++
	n := p.replies
	p.mu.Unlock()
	c := p.fake.WaitCalls(t, "chat.postMessage", n)[n-1]
	return strings.ToLower(strings.TrimPrefix(c.Channel(), "C")), c.Text()
}

func (p *platform) SaysChat() {}

func (p *platform) PushEvent(conv, text string) event.Event {
	return slack.Send{Channel: channelOf(conv), Text: text}
}

func (p *platform) Address(conv string) string { return channelOf(conv) }

// Refuse makes Slack answer every chat call to conv's channel
// not_in_channel, as it does once the bot was removed from it.
func (p *platform) Refuse(_ testing.TB, conv string) {
	p.fake.FailChannel(channelOf(conv), "not_in_channel")
}

// socketPlatform is Slack over Socket Mode.
type socketPlatform struct {
	platform
	envelopes map[string][]string // conversation -> envelope ids of its messages, under mu
}

func (p *socketPlatform) Say(t testing.TB, conv, text string) {
	t.Helper()
	id, _ := p.fake.PushEvent(p.fake.Message(channelOf(conv), "U"+strings.ToUpper(conv), text))
	p.mu.Lock()
	p.envelopes[conv] = append(p.envelopes[conv], id)
	p.mu.Unlock()
}

func (p *socketPlatform) SayBad(t testing.TB) {
	t.Helper()
	ids := []string{
		p.fake.PushRaw("events_api", []byte(`{"type":"event_callback","event":`)),
		p.fake.PushRaw("no_such_envelope", []byte(`{}`)),
		p.fake.PushRaw("interactive", []byte(`[1,2]`)),
	}
	p.fake.WaitAcked(t, ids...)
}

// Acked counts the envelopes of conv's messages the adapter acknowledged.
func (p *socketPlatform) Acked(_ testing.TB, conv string) int {
	p.mu.Lock()
	ids := append([]string(nil), p.envelopes[conv]...)
	p.mu.Unlock()
	n := 0
	for _, id := range ids {
		if p.fake.Acked(id) {
			n++
		}
	}
	return n
}

// Drop cuts the Socket Mode connection without a word; the envelopes it
// carried unacknowledged come again on the next one.
func (p *socketPlatform) Drop(t testing.TB) {
	t.Helper()
	n, _ := p.fake.Connects()
	p.fake.WaitConnects(t, n) // one is open: the drop cuts it
	p.fake.Drop()
}

// httpPlatform is Slack posting to the adapter's Events API endpoint. As
// Slack does, it posts while earlier requests are still unanswered (an
// answer comes once the event was handled), but, so that the kit can
// check the order within a conversation, it posts one conversation's
// events one after the other, each once the previous was answered.
//
// It is no DropPlatform: over HTTP the adapter holds no connection to
// Slack, which opens a request per event; a request that fails is
// Slack's to post again, which BadInput and the deduplication tests
// cover.
type httpPlatform struct {
	platform
	ctx    context.Context // ends the posts at cleanup
	client *http.Client
	lanes  map[string]chan []byte // conversation -> bodies to post, under mu
	posts  sync.WaitGroup
	ok     map[string]int // conversation -> requests answered 200, under mu
}

func newHTTPPlatform(t testing.TB, e *env) *httpPlatform {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{}
	p := &httpPlatform{platform: platform{env: e}, ctx: ctx, client: &http.Client{Transport: tr},
		lanes: map[string]chan []byte{}, ok: map[string]int{}}
	t.Cleanup(func() {
		cancel()
		p.mu.Lock()
		for _, l := range p.lanes {
			close(l)
		}
		p.mu.Unlock()
		p.posts.Wait()
		tr.CloseIdleConnections()
	})
	return p
}

// Say queues the event on its conversation's lane and returns: its
// request is answered only once it was handled, which for a blocked
// handler is never.
func (p *httpPlatform) Say(t testing.TB, conv, text string) {
	t.Helper()
	body, _ := p.fake.EventBody(p.fake.Message(channelOf(conv), "U"+strings.ToUpper(conv), text))
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.lanes[conv]
	if !ok {
		l = make(chan []byte, 1000)
		p.lanes[conv] = l
		p.posts.Go(func() { p.lane(conv, l) })
	}
	l <- body
}

func (p *httpPlatform) lane(conv string, bodies <-chan []byte) {
	for body := range bodies {
		if p.ctx.Err() != nil {
			continue // the test is over: drop what is left
		}
		if p.post(body) == http.StatusOK {
			p.mu.Lock()
			p.ok[conv]++
			p.mu.Unlock()
		}
	}
}

// post posts a signed Events API request and returns its status, 0 when
// it got no answer.
func (p *httpPlatform) post(body []byte) int {
	req, err := http.NewRequestWithContext(p.ctx, http.MethodPost, p.endpoint+"/slack/events", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	ts, sig := fakeslack.Sign(p.fake.Options().SigningSecret, time.Now(), body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (p *httpPlatform) SayBad(t testing.TB) {
	t.Helper()
	for name, res := range badRequests(t, p.env) {
		if res.got != res.want {
			t.Errorf("%s: answered %d, want %d", name, res.got, res.want)
		}
	}
}

// Acked counts conv's requests the adapter answered 200.
func (p *httpPlatform) Acked(_ testing.TB, conv string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok[conv]
}

// heldDeadlines is the wall clock, except that acknowledgement deadlines
// never come. Slack wants an event acknowledged within 3 seconds, so the
// adapter acknowledges one whose handler still runs at Config.AckDeadline
// (ack_test.go checks that on a clock of its own); holding the deadline
// lets the kit check the rest of the rule, an acknowledgement only once
// handled and none for a handler a stop cut short, however slow the
// machine running it.
type heldDeadlines struct{}

func (heldDeadlines) Now() time.Time                         { return time.Now() }
func (heldDeadlines) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (heldDeadlines) AfterFunc(time.Duration, func()) func() bool {
	return func() bool { return true }
}

func harness(mode slack.Mode) adaptertest.Harness {
	return func(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
		// The kit's order case posts 30 replies per channel; Slack's
		// 1/s pace is tested on its own.
		e := newEnv(t, mode, func(c *slack.Config) {
			c.PostRate = 1000
			c.RateLimits = map[string]float64{"chat.postMessage": 1e6}
		}, adapters.WithScopes(cfg), slack.WithClock(heldDeadlines{}))
		if mode == slack.ModeHTTP {
			return e.h, newHTTPPlatform(t, e)
		}
		return e.h, &socketPlatform{platform: platform{env: e}, envelopes: map[string][]string{}}
	}
}

func TestConformanceSocketMode(t *testing.T) { adaptertest.Run(t, harness(slack.ModeSocket)) }
func TestConformanceHTTP(t *testing.T)       { adaptertest.Run(t, harness(slack.ModeHTTP)) }

type fakeslackPostOption = fakeslack.PostOption

func retry(n int) fakeslack.PostOption { return fakeslack.AsRetry(n) }

func inbox(n int) adapters.HostOption { return adapters.WithScopes(scope.Config{InboxSize: n}) }
