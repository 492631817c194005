package irc_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	"github.com/switchboard-bots/switchboard/adapters/irc"
	"github.com/switchboard-bots/switchboard/adapters/irc/irctest"
	"github.com/switchboard-bots/switchboard/adapters/throttle"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// seen is a message as the bot's consumer saw it, and what its answer
// returned.
type seen struct {
	scope *scope.Scope // one per instance
	text  string
	err   error
}

// echoBot answers "echo: <text>", and obeys a few commands.
type echoBot struct {
	consumer.Chat
	seen chan<- seen
}

// longText mixes words, multi-byte runes and a run with no space.
var longText = strings.Repeat("Grüße aus Zürich, 東京 и Москва! ", 25) + strings.Repeat("é", 300) + " end"

func (b *echoBot) message(ctx context.Context, m consumer.ChatMessage) error {
	text := m.ChatText()
	var err error
	switch cmd, arg, _ := strings.Cut(text, " "); cmd {
	case "say":
		err = b.Send(ctx, event.Say{Text: arg})
	case "to":
		target, msg, _ := strings.Cut(arg, " ")
		err = b.Send(ctx, event.Say{To: target, Text: msg})
	case "long":
		err = b.Reply(ctx, longText)
	case "lines":
		err = b.Reply(ctx, arg+"\n\n"+arg+"\r\n"+arg)
	case "burst":
		err = b.Reply(ctx, "1\n2\n3\n4\n5\n6\n7")
	default:
		err = b.Reply(ctx, "echo: "+text)
	}
	b.seen <- seen{b.Scope(), text, err}
	return nil
}

// runBot runs an adapter for cfg on srv until the test ends, and waits
// until it joined its channels (watched by c, a user in all of them).
func runBot(t *testing.T, srv interface{ Addr() string }, cfg irc.Config, c *irctest.Client, opts ...adapters.HostOption) (*adapters.Host, chan seen) {
	t.Helper()
	cfg.Server = srv.Addr()
	a, err := irc.New("irc", cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := adapters.NewHost(a, append([]adapters.HostOption{adapters.WithScopes(scope.Config{IdleTimeout: -1})}, opts...)...)
	ch := make(chan seen, 100)
	serve(t, h, consumer.New(func() *echoBot { return &echoBot{seen: ch} }, consumer.OnMessage((*echoBot).message)))
	for range cfg.Channels {
		c.FromBot(cfg.Nick, "JOIN")
	}
	return h, ch
}

// serve runs h with app until the test ends.
func serve(t *testing.T, h *adapters.Host, app scope.Application) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), app) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		<-done
	})
}

func next(t *testing.T, ch <-chan seen) seen {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("the bot saw nothing within 10s")
		return seen{}
	}
}

func TestScopePerChannelAndQuery(t *testing.T) {
	srv := irctest.Start(t, "")
	alice := srv.Dial(t, "alice", "#room")
	bob := srv.Dial(t, "bob", "#room")
	_, ch := runBot(t, srv, irc.Config{Nick: "bot", Channels: []string{"#room"}}, alice)

	alice.Send("PRIVMSG #room :hi all")
	if got := alice.FromBot("bot", "PRIVMSG"); got.Params[0] != "#room" || got.Params[1] != "echo: hi all" {
		t.Fatalf("echo: got %q", got.Raw)
	}
	first := next(t, ch)
	bob.Send("PRIVMSG #Room :me too")
	second := next(t, ch)
	if got := alice.FromBot("bot", "PRIVMSG"); got.Params[1] != "echo: me too" {
		t.Fatalf("echo: got %q", got.Raw)
	}
	alice.Send("PRIVMSG bot :psst")
	if got := alice.FromBot("bot", "PRIVMSG"); got.Params[0] != "alice" || got.Params[1] != "echo: psst" {
		t.Fatalf("private echo: got %q", got.Raw)
	}
	private := next(t, ch)
	if first.scope != second.scope {
		t.Error("two users of one channel got two scopes with key_by channel")
	}
	if private.scope == first.scope {
		t.Error("a private conversation shares the channel's scope")
	}
	if s := first.scope; s.Type != irc.Protocol || s.Chat.ID != "#room" || s.Chat.Type != "channel" || s.User.ID != "alice" || s.Bot.ID != "bot" {
		t.Errorf("channel scope: %+v", s)
	}
	if s := private.scope; s.Chat.ID != "alice" || s.Chat.Type != "private" {
		t.Errorf("private scope: %+v", s)
	}
}

func TestKeyByChannelUser(t *testing.T) {
	srv := irctest.Start(t, "")
	alice := srv.Dial(t, "alice", "#room")
	bob := srv.Dial(t, "bob", "#room")
	_, ch := runBot(t, srv, irc.Config{Nick: "bot", Channels: []string{"#room"}, KeyBy: "channel_user"}, alice)
	alice.Send("PRIVMSG #room :one")
	a1 := next(t, ch)
	bob.Send("PRIVMSG #room :two")
	b1 := next(t, ch)
	alice.Send("PRIVMSG #room :three")
	a2 := next(t, ch)
	if a1.scope != a2.scope || a1.scope == b1.scope {
		t.Fatalf("want one scope per user in the channel: alice %p %p, bob %p", a1.scope, a2.scope, b1.scope)
	}
	if b1.scope.Chat.ID != "#room" || b1.scope.User.ID != "bob" {
		t.Fatalf("bob's scope: %+v", b1.scope)
	}
}

func TestOwnEchoIgnoredAndNoticeNotDelivered(t *testing.T) {
	srv := irctest.Start(t, "")
	alice := srv.Dial(t, "alice", "#room")
	_, ch := runBot(t, srv, irc.Config{Nick: "bot", Channels: []string{"#room"}}, alice)
	// The bot messages itself: the server delivers that to the bot, which
	// must not take its own line for a user's.
	alice.Send("PRIVMSG bot :to bot hello me")
	if s := next(t, ch); s.text != "to bot hello me" || s.err != nil {
		t.Fatalf("got %+v", s)
	}
	alice.Send("NOTICE bot :a notice")
	alice.Send("PRIVMSG bot :\x01VERSION\x01")
	alice.Send("PRIVMSG bot :latin-1 \xe9t\xe9") // not UTF-8
	alice.Send("PRIVMSG bot :after")
	if s := next(t, ch); s.text != "after" {
		t.Fatalf("got %q, want the message after the bot's own echo, a NOTICE, a CTCP and a line not UTF-8", s.text)
	}
}

func TestSay(t *testing.T) {
	srv := irctest.Start(t, "")
	alice := srv.Dial(t, "alice", "#room")
	_, ch := runBot(t, srv, irc.Config{Nick: "bot", Channels: []string{"#room"}}, alice)
	alice.Send("PRIVMSG #room :say hello room")
	if got := alice.FromBot("bot", "PRIVMSG"); got.Params[0] != "#room" || got.Params[1] != "hello room" {
		t.Fatalf("chat.say in a channel: %q", got.Raw)
	}
	alice.Send("PRIVMSG bot :say hello you")
	if got := alice.FromBot("bot", "PRIVMSG"); got.Params[0] != "alice" || got.Params[1] != "hello you" {
		t.Fatalf("chat.say in a query: %q", got.Raw)
	}
	for range 2 {
		if s := next(t, ch); s.err != nil {
			t.Fatal(s.err)
		}
	}
}

func TestSplit(t *testing.T) {
	srv := irctest.Start(t, "")
	alice := srv.Dial(t, "alice", "#room")
	_, ch := runBot(t, srv, irc.Config{Nick: "bot", Channels: []string{"#room"}}, alice)
	alice.Send("PRIVMSG #room :long")
	if s := next(t, ch); s.err != nil {
		t.Fatalf("Reply: %v", s.err)
	}
	var got strings.Builder
	pieces := 0
	for got.Len() < len(longText) {
		l := alice.FromBot("bot", "PRIVMSG")
		if n := len(l.Raw) + 2; n > 512 {
			t.Errorf("a relayed line has %d bytes, over 512", n)
		}
		if !utf8.ValidString(l.Params[1]) {
			t.Errorf("piece %d is not valid UTF-8", pieces)
		}
		got.WriteString(l.Params[1])
		if got.Len() < len(longText) && longText[got.Len()] == ' ' {
			got.WriteByte(' ') // a cut at a space drops it
		}
		pieces++
	}
	if got.String() != longText {
		t.Fatalf("reassembled text differs:\n got %q\nwant %q", got.String(), longText)
	}
	if min := (len(longText) + 449) / 450; pieces < min || pieces > min+2 {
		t.Errorf("%d pieces for %d bytes: the pieces are not filled", pieces, len(longText))
	}
	alice.Send("PRIVMSG #room :lines x")
	for range 3 {
		if l := alice.FromBot("bot", "PRIVMSG"); l.Params[1] != "x" {
			t.Fatalf("a line of a multi-line text: %q", l.Raw)
		}
	}
	if s := next(t, ch); s.err != nil {
		t.Fatal(s.err)
	}
}

func TestRefused(t *testing.T) {
	srv := irctest.Start(t, "")
	alice := srv.Dial(t, "alice", "#room")
	_, ch := runBot(t, srv, irc.Config{Nick: "bot", Channels: []string{"#room"}}, alice)
	for _, tc := range []struct{ target, codes string }{{"nobody", "401"}, {"#nowhere", "401 403 404"}} {
		alice.Send("PRIVMSG bot :to " + tc.target + " hi")
		s := next(t, ch)
		var r *adapters.RefusedError
		if !errors.As(s.err, &r) || !errors.Is(s.err, adapters.ErrRefused) {
			t.Fatalf("Send to %s returned %v, want a *adapters.RefusedError", tc.target, s.err)
		}
		if !strings.Contains(tc.codes, r.Code) || r.Adapter != "irc" || r.Method != "PRIVMSG" {
			t.Errorf("Send to %s: %+v", tc.target, r)
		}
	}
	alice.Send("PRIVMSG bot :to alice still here")
	if got := alice.FromBot("bot", "PRIVMSG"); got.Params[1] != "still here" {
		t.Fatalf("got %q", got.Raw)
	}
	if s := next(t, ch); s.err != nil {
		t.Fatalf("a Send that went through returned %v", s.err)
	}
}

func TestFloodControl(t *testing.T) {
	srv := irctest.Start(t, "")
	alice := srv.Dial(t, "alice", "#room")
	clock := clocktest.New(time.Unix(1_000_000, 0))
	cfg := irc.Config{Nick: "bot", Channels: []string{"#room"}, Flood: throttle.Rate{Burst: 3, Interval: 2 * time.Second}}
	_, ch := runBot(t, srv, cfg, alice, adapters.WithClock(clock))
	alice.Send("PRIVMSG #room :burst")
	for i := 1; i <= 3; i++ { // the burst goes at once
		if l := alice.FromBot("bot", "PRIVMSG"); l.Params[1] != string(rune('0'+i)) {
			t.Fatalf("line %d: %q", i, l.Raw)
		}
	}
	for i := 4; i <= 7; i++ { // then one line per interval, no sooner
		if d := clock.NextWait(t); d != 2*time.Second {
			t.Fatalf("line %d waits %v, want 2s", i, d)
		}
		if l, ok := alice.TryNext(); ok {
			t.Fatalf("line before its time: %q", l.Raw)
		}
		clock.Advance(2 * time.Second)
		if l := alice.FromBot("bot", "PRIVMSG"); l.Params[1] != string(rune('0'+i)) {
			t.Fatalf("line %d: %q", i, l.Raw)
		}
	}
	if s := next(t, ch); s.err != nil {
		t.Fatal(s.err)
	}
}

func TestReconnectAndRejoin(t *testing.T) {
	srv := irctest.Start(t, "")
	alice := srv.Dial(t, "alice", "#room", "#other")
	clock := clocktest.New(time.Unix(1_000_000, 0))
	_, ch := runBot(t, srv, irc.Config{Nick: "bot", Channels: []string{"#room", "#other"}}, alice, adapters.WithClock(clock))
	alice.Send("PRIVMSG #room :before")
	before := next(t, ch)

	alice.Send("KILL bot :testing reconnection")
	alice.FromBot("bot", "QUIT")
	if d := clock.NextWait(t); d != time.Second {
		t.Fatalf("first reconnection waits %v, want 1s", d)
	}
	clock.Advance(time.Second)
	for range 2 {
		alice.FromBot("bot", "JOIN")
	}
	alice.Send("PRIVMSG #other :after")
	if got := alice.FromBot("bot", "PRIVMSG"); got.Params[0] != "#other" || got.Params[1] != "echo: after" {
		t.Fatalf("after reconnecting: %q", got.Raw)
	}
	next(t, ch) // "after", whose answer is out
	alice.Send("PRIVMSG #room :again")
	if again := next(t, ch); again.scope != before.scope {
		t.Error("the channel's scope did not outlive the reconnection")
	}
}

func TestNickTaken(t *testing.T) {
	srv := irctest.Start(t, "")
	srv.Dial(t, "bot") // holds the bot's nick
	alice := srv.Dial(t, "alice")
	h, ch := runBot(t, srv, irc.Config{Nick: "bot"}, alice)
	select {
	case <-h.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("not registered within 10s while the nick is taken")
	}
	alice.Send("PRIVMSG bot_0 :who are you")
	if got := alice.FromBot("bot_0", "PRIVMSG"); got.Params[1] != "echo: who are you" {
		t.Fatalf("got %q", got.Raw)
	}
	if s := next(t, ch); s.scope.Bot.ID != "bot_0" {
		t.Errorf("the scope's bot is %+v, want the nick the server gave", s.scope.Bot)
	}
}

func TestTLS(t *testing.T) {
	srv := irctest.StartTLS(t)
	alice := srv.Dial(t, "alice", "#room")
	cfg := irc.Config{Nick: "bot", Channels: []string{"#room"}, TLS: true, Endpoint: adapters.Endpoint{CAFile: srv.CAFile()}}
	_, ch := runBot(t, &tlsServer{srv}, cfg, alice)
	alice.Send("PRIVMSG #room :over tls")
	if got := alice.FromBot("bot", "PRIVMSG"); got.Params[1] != "echo: over tls" {
		t.Fatalf("echo over TLS: got %q", got.Raw)
	}
	if s := next(t, ch); s.err != nil {
		t.Fatal(s.err)
	}
}

// tlsServer points runBot at a server's TLS port.
type tlsServer struct{ *irctest.Server }

func (s *tlsServer) Addr() string { return s.TLSAddr() }

func TestPassword(t *testing.T) {
	srv := irctest.Start(t, "s3cret-pass")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	bad, err := irc.New("irc", irc.Config{Endpoint: adapters.Endpoint{Server: srv.Addr()}, Nick: "bot", Password: "wrong-pass"})
	if err != nil {
		t.Fatal(err)
	}
	err = adapters.NewHost(bad, adapters.WithLogger(log)).Run(context.Background(), consumer.New(func() *echoBot { return &echoBot{} }))
	if !errors.Is(err, irc.ErrLogin) {
		t.Fatalf("Run with a wrong password returned %v, want ErrLogin", err)
	}

	good, err := irc.New("irc", irc.Config{Endpoint: adapters.Endpoint{Server: srv.Addr()}, Nick: "bot", Password: "s3cret-pass"})
	if err != nil {
		t.Fatal(err)
	}
	h := adapters.NewHost(good, adapters.WithLogger(log))
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), consumer.New(func() *echoBot { return &echoBot{} })) }()
	select {
	case <-h.Ready():
	case err := <-done:
		t.Fatalf("Run with the right password: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not registered within 10s with the right password")
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-done
	if strings.Contains(logs.String(), "s3cret") || strings.Contains(logs.String(), "wrong-pass") {
		t.Fatalf("a password reached the log:\n%s", logs.String())
	}
}

func TestSASLWithoutServerSupport(t *testing.T) {
	srv := irctest.Start(t, "")
	a, err := irc.New("irc", irc.Config{Endpoint: adapters.Endpoint{Server: srv.Addr()}, Nick: "bot", SASL: &irc.SASL{User: "bot", Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	err = adapters.NewHost(a).Run(context.Background(), consumer.New(func() *echoBot { return &echoBot{} }))
	if !errors.Is(err, irc.ErrLogin) {
		t.Fatalf("Run with SASL against a server without it returned %v, want ErrLogin", err)
	}
}

// platform is the conformance kit's side: conversation "a" is channel #a.
type platform struct {
	user   *irctest.Client
	joined sync.Once
}

func (p *platform) Say(t testing.TB, conv, text string) {
	p.joined.Do(func() {
		for range 4 {
			p.user.FromBot("bot", "JOIN")
		}
	})
	p.user.Send("PRIVMSG #" + conv + " :" + text)
}

func (p *platform) Reply(t testing.TB) (string, string) {
	l := p.user.FromBot("bot", "PRIVMSG")
	return strings.TrimPrefix(l.Params[0], "#"), l.Params[1]
}

func (p *platform) PushEvent(conv, text string) event.Event {
	return event.Say{To: "#" + conv, Text: text}
}

func (p *platform) Address(conv string) string { return "#" + conv }

func (p *platform) SayBad(t testing.TB) {
	p.Say(t, "a", "\x01VERSION\x01")
	p.user.Send("NOTICE #a :not for bots")
	p.user.Send("PRIVMSG bot :\x01PING 1\x01")
}

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
		srv := irctest.Start(t, "")
		user := srv.Dial(t, "user", "#a", "#b", "#c", "#p")
		a, err := irc.New("irc", irc.Config{Endpoint: adapters.Endpoint{Server: srv.Addr()}, Nick: "bot", Channels: []string{"#a", "#b", "#c", "#p"},
			Flood: throttle.Rate{Burst: 10, Interval: 100 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		return adapters.NewHost(a, adapters.WithScopes(cfg)), &platform{user: user}
	})
}

var _ adaptertest.AddressPlatform = (*platform)(nil)

func TestConfigChannels(t *testing.T) {
	for ch, ok := range map[string]bool{"#room": true, "#private key": true, "&local": true, "room": false, "#room key extra": false} {
		_, err := irc.New("irc", irc.Config{Endpoint: adapters.Endpoint{Server: "127.0.0.1:6667"}, Nick: "bot", Channels: []string{ch}})
		if (err == nil) != ok {
			t.Errorf("channel %q: New returned %v", ch, err)
		}
	}
}
