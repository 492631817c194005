package xmpp_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/xmpp"
	"github.com/switchboard-bots/switchboard/adapters/xmpp/xmpptest"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const botPass = "s3cret-b0t-pass"

// botConfig registers the bot's account on srv and returns its config.
func botConfig(srv *xmpptest.Server, rooms ...string) xmpp.Config {
	var jids []string
	for _, r := range rooms {
		jids = append(jids, r+"@"+xmpptest.MUC)
	}
	return xmpp.Config{JID: srv.Register("bot", botPass) + "/sb", Password: botPass,
		Endpoint: adapters.Endpoint{Server: srv.Addr(), CAFile: srv.CAFile()}, Rooms: jids, Nick: "bot"}
}

// run runs a Host for an adapter of cfg serving app until the test ends,
// and waits until it is ready.
func run(t *testing.T, cfg xmpp.Config, app scope.Application, log *slog.Logger, opts ...xmpp.Option) *adapters.Host {
	t.Helper()
	return runHost(t, cfg, app, log, nil, opts...)
}

// runHost is run with more options for the Host.
func runHost(t testing.TB, cfg xmpp.Config, app scope.Application, log *slog.Logger, hopts []adapters.HostOption, opts ...xmpp.Option) *adapters.Host {
	t.Helper()
	a, err := xmpp.New("xmpp", cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hopts = append([]adapters.HostOption{adapters.WithScopes(scope.Config{IdleTimeout: -1}), adapters.WithLogger(log)}, hopts...)
	h := adapters.NewHost(a, hopts...)
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), app) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		<-done
	})
	select {
	case <-h.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(xmpptest.Timeout):
		t.Fatal("the adapter was not ready in time")
	}
	return h
}

// seen is a message as the probe bot saw it, and what its answer returned.
type seen struct {
	scope *scope.Scope
	text  string
	err   error
}

// probe answers "echo: <text>" and obeys a few commands.
type probe struct {
	consumer.Chat
	seen chan<- seen
}

func (p *probe) message(ctx context.Context, m consumer.ChatMessage) error {
	text := m.ChatText()
	var err error
	switch cmd, arg, _ := strings.Cut(text, " "); cmd {
	case "say":
		err = p.Send(ctx, event.Say{Text: arg})
	case "to":
		to, msg, _ := strings.Cut(arg, " ")
		err = p.Send(ctx, xmpp.Send{To: to, Text: msg})
	case "typing":
		err = p.Send(ctx, xmpp.ChatState{State: xmpp.StateComposing})
	default:
		err = p.Reply(ctx, "echo: "+text)
	}
	p.seen <- seen{p.Scope(), text, err}
	return nil
}

func newProbe() (scope.Application, chan seen) {
	ch := make(chan seen, 100)
	return consumer.New(func() *probe { return &probe{seen: ch} }, consumer.OnMessage((*probe).message)), ch
}

func next(t *testing.T, ch <-chan seen) seen {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(xmpptest.Timeout):
		t.Fatal("the bot saw nothing in time")
		return seen{}
	}
}

// The built-in echo bot answers a one-to-one chat and a room.
func TestEchoBot(t *testing.T) {
	srv := xmpptest.Start(t)
	alice := srv.Dial(t, "alice")
	alice.Join("lobby", "alice")
	cfg := botConfig(srv, "lobby")
	run(t, cfg, echo.New(), nil)
	alice.Presence("", "lobby@"+xmpptest.MUC+"/bot")

	alice.Say("bot@"+xmpptest.Domain, "hello bot")
	if m := alice.From("bot@" + xmpptest.Domain); m.Body != "You said: hello bot" || m.Type != "chat" {
		t.Fatalf("one-to-one: %+v", m)
	}
	alice.SayRoom("lobby", "hello room")
	if m := alice.From("lobby@" + xmpptest.MUC + "/bot"); m.Body != "You said: hello room" || m.Type != "groupchat" {
		t.Fatalf("room: %+v", m)
	}
}

func TestScopes(t *testing.T) {
	srv := xmpptest.Start(t)
	alice, bob := srv.Dial(t, "alice"), srv.Dial(t, "bob")
	alice.Join("lobby", "alice")
	bob.Join("lobby", "bob")
	app, ch := newProbe()
	run(t, botConfig(srv, "lobby"), app, nil)
	alice.Presence("", "lobby@"+xmpptest.MUC+"/bot")

	alice.SayRoom("lobby", "one")
	room1 := next(t, ch)
	bob.SayRoom("lobby", "two")
	room2 := next(t, ch)
	alice.Say("bot@"+xmpptest.Domain, "three")
	private := next(t, ch)
	if room1.scope != room2.scope {
		t.Error("two members of a room got two scopes")
	}
	if private.scope == room1.scope {
		t.Error("a one-to-one chat shares the room's scope")
	}
	room := "lobby@" + xmpptest.MUC
	if s := room1.scope; s.Type != xmpp.Protocol || s.Chat.ID != room || s.Chat.Type != xmpp.ChatRoom ||
		s.User.Name != "alice" || s.User.ID != room+"/alice" || s.Bot.Name != "bot" {
		t.Errorf("room scope: %+v", s)
	}
	if s := private.scope; s.Chat.ID != "alice@"+xmpptest.Domain || s.Chat.Type != xmpp.ChatPrivate || s.User.Name != "alice" {
		t.Errorf("private scope: %+v", s)
	}
	// Replies went to the room, once per message, and to alice.
	for _, want := range []string{"echo: one", "echo: two"} {
		if m := alice.From(room + "/bot"); m.Body != want {
			t.Fatalf("room reply %q, want %q", m.Body, want)
		}
	}
	if m := alice.From("bot@" + xmpptest.Domain); m.Body != "echo: three" {
		t.Fatalf("private reply %q", m.Body)
	}
}

// The bot's own messages, reflected by the room, and messages without a
// body (chat states) are not delivered; chat.say and xmpp.chat_state
// reach the conversation.
func TestOwnEchoesAndChatStates(t *testing.T) {
	srv := xmpptest.Start(t)
	alice := srv.Dial(t, "alice")
	alice.Join("lobby", "alice")
	app, ch := newProbe()
	run(t, botConfig(srv, "lobby"), app, nil)
	alice.Presence("", "lobby@"+xmpptest.MUC+"/bot")
	room := "lobby@" + xmpptest.MUC

	alice.SayRoom("lobby", "say hi all")
	if m := alice.From(room + "/bot"); m.Body != "hi all" {
		t.Fatalf("chat.say in a room: %+v", m)
	}
	next(t, ch)
	alice.Raw(`<message type="chat" to="bot@xmpp.test"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	alice.Say("bot@"+xmpptest.Domain, "typing")
	if s := next(t, ch); s.text != "typing" || s.err != nil {
		t.Fatalf("got %+v, want the message after a bare chat state, and the bot's own room message not delivered", s)
	}
	for {
		m := alice.Next()
		if strings.HasPrefix(m.From, "bot@"+xmpptest.Domain+"/") && m.Body == "" && m.Type == "chat" && m.State == "composing" {
			break // the composing notification
		}
	}
}

func TestRefused(t *testing.T) {
	srv := xmpptest.Start(t)
	alice := srv.Dial(t, "alice")
	alice.Join("lobby", "alice")
	app, ch := newProbe()
	run(t, botConfig(srv, "lobby"), app, nil)
	alice.Presence("", "lobby@"+xmpptest.MUC+"/bot")

	for _, tc := range []struct{ to, code string }{
		{"nobody@" + xmpptest.Domain, "service-unavailable"},
		{"elsewhere@" + xmpptest.MUC, "item-not-found"},
	} {
		alice.Say("bot@"+xmpptest.Domain, "to "+tc.to+" hi")
		s := next(t, ch)
		var r *adapters.RefusedError
		if !errors.As(s.err, &r) || !errors.Is(s.err, adapters.ErrRefused) {
			t.Fatalf("Send to %s returned %v, want a *adapters.RefusedError", tc.to, s.err)
		}
		if r.Code != tc.code || r.Adapter != "xmpp" || r.Method != "message" {
			t.Errorf("Send to %s: %+v", tc.to, r)
		}
	}
	alice.Mute("lobby", "bot")
	alice.SayRoom("lobby", "muted")
	var r *adapters.RefusedError
	if s := next(t, ch); !errors.As(s.err, &r) || r.Code != "forbidden" {
		t.Fatalf("a muted bot's reply returned %v, want forbidden", s.err)
	}
	alice.Say("bot@"+xmpptest.Domain, "still here")
	if m := alice.From("bot@" + xmpptest.Domain); m.Body != "echo: still here" {
		t.Fatalf("got %+v", m)
	}
	if s := next(t, ch); s.err != nil {
		t.Fatalf("a send that went through returned %v", s.err)
	}
}

// A wrong password fails for good with ErrLogin, and no password reaches
// the log, whether refused or accepted.
func TestLogin(t *testing.T) {
	srv := xmpptest.Start(t)
	var logs logtest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := botConfig(srv)
	bad := cfg
	bad.Password = "wr0ng-pass"
	a, err := xmpp.New("xmpp", bad)
	if err != nil {
		t.Fatal(err)
	}
	app, _ := newProbe()
	err = adapters.NewHost(a, adapters.WithLogger(log)).Run(context.Background(), app)
	if !errors.Is(err, xmpp.ErrLogin) {
		t.Fatalf("Run with a wrong password returned %v, want ErrLogin", err)
	}
	log.Info("config", "cfg", cfg, "password", cfg.Password)
	run(t, cfg, app, log)
	if l := logs.String(); strings.Contains(l, botPass) || strings.Contains(l, "wr0ng") {
		t.Fatalf("a password reached the log:\n%s", l)
	}
	if !strings.Contains(logs.String(), "[redacted]") {
		t.Fatalf("the config was not logged redacted:\n%s", logs.String())
	}
}

// A server that offers no STARTTLS never sees the password: the adapter
// insists on STARTTLS (tried even unadvertised, against a downgrade) and
// never logs in.
func TestNoTLSNoLogin(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.WithoutTLS())
	a, err := xmpp.New("xmpp", botConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	app, _ := newProbe()
	h := adapters.NewHost(a, adapters.WithLogger(slog.New(slog.DiscardHandler)))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := h.Run(ctx, app); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v", err)
	}
	select {
	case <-h.Ready():
		t.Fatal("the adapter logged in without TLS")
	default:
	}
	if l := srv.Log(); strings.Contains(l, "Authenticated") || !strings.Contains(l, "Client connected") {
		t.Fatalf("prosody's log:\n%s", l)
	}
}

// A private message from a room's occupant is a conversation with that
// occupant, answered privately through the room.
func TestPrivateMessageFromOccupant(t *testing.T) {
	srv := xmpptest.Start(t)
	alice := srv.Dial(t, "alice")
	alice.Join("lobby", "alice")
	app, ch := newProbe()
	run(t, botConfig(srv, "lobby"), app, nil)
	occupant := "lobby@" + xmpptest.MUC + "/bot"
	alice.Presence("", occupant)
	alice.Say(occupant, "psst")
	s := next(t, ch)
	if want := "lobby@" + xmpptest.MUC + "/alice"; s.scope.Key == "" || s.scope.Chat.ID != want || s.scope.Chat.Type != xmpp.ChatPrivate || s.scope.User.Name != "alice" {
		t.Fatalf("scope %+v, want a private conversation with %s", s.scope, want)
	}
	if m := alice.From(occupant); m.Body != "echo: psst" || m.Type != "chat" {
		t.Fatalf("got %+v, want a private answer", m)
	}
}

// A text longer than max_message goes as several messages, cut at line
// ends, else on UTF-8 boundaries.
func TestLongText(t *testing.T) {
	srv := xmpptest.Start(t)
	alice := srv.Dial(t, "alice")
	app, ch := newProbe()
	cfg := botConfig(srv)
	cfg.MaxMessage = 16
	run(t, cfg, app, nil)
	bot := "bot@" + xmpptest.Domain
	alice.Say(bot, "say ab\ncdéééééééééééééé")
	if s := next(t, ch); s.err != nil {
		t.Fatal(s.err)
	}
	var got []string
	for _, want := range []string{"ab\n", "cdééééééé", "ééééééé"} {
		m := alice.From(bot)
		got = append(got, m.Body)
		if m.Body != want {
			t.Fatalf("pieces %q, want %q next", got, want)
		}
	}
}

// A nick taken in a room is retried with "_" appended, and the bot
// answers under it; its own messages under the new nick are not
// delivered back to it.
func TestNickTaken(t *testing.T) {
	srv := xmpptest.Start(t)
	alice := srv.Dial(t, "alice")
	alice.Join("lobby", "bot")
	app, ch := newProbe()
	run(t, botConfig(srv, "lobby"), app, nil)
	occupant := "lobby@" + xmpptest.MUC + "/bot_"
	alice.Presence("", occupant)
	alice.SayRoom("lobby", "hi")
	if m := alice.From(occupant); m.Body != "echo: hi" {
		t.Fatalf("got %+v", m)
	}
	if s := next(t, ch); s.scope.Bot.Name != "bot_" {
		t.Fatalf("the scope's bot is %+v, want the nick bot_", s.scope.Bot)
	}
	alice.SayRoom("lobby", "again")
	if s := next(t, ch); s.text != "again" {
		t.Fatalf("the bot saw %q, want %q: its own message came back to it", s.text, "again")
	}
}

// An xmpp.send and an xmpp.chat_state sent to the layer channel
// push.xmpp, as a worker or another process sends them, reach the room
// and the user they name.
func TestPushThroughTheLayer(t *testing.T) {
	srv := xmpptest.Start(t)
	alice := srv.Dial(t, "alice")
	alice.Join("lobby", "alice")
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	app, _ := newProbe()
	runHost(t, botConfig(srv, "lobby"), app, nil, []adapters.HostOption{adapters.WithPushes(l)})
	occupant := "lobby@" + xmpptest.MUC + "/bot"
	alice.Presence("", occupant)
	ctx := context.Background()
	for _, ev := range []event.Event{
		xmpp.Send{To: "lobby@" + xmpptest.MUC, Text: "to the room"},
		xmpp.ChatState{To: "alice@" + xmpptest.Domain, State: xmpp.StateComposing},
		xmpp.Send{To: "alice@" + xmpptest.Domain, Text: "to alice"},
	} {
		if err := l.Send(ctx, adapters.PushChannel("xmpp"), ev); err != nil {
			t.Fatal(err)
		}
	}
	if m := alice.From(occupant); m.Body != "to the room" || m.Type != "groupchat" {
		t.Fatalf("room push: %+v", m)
	}
	var state string
	for {
		m := alice.Next()
		if !strings.HasPrefix(m.From, "bot@"+xmpptest.Domain+"/") {
			continue
		}
		if m.Body == "" {
			state = m.State
			continue
		}
		if m.Body != "to alice" || m.Type != "chat" || state != xmpp.StateComposing {
			t.Fatalf("one-to-one push: %+v after the chat state %q", m, state)
		}
		break
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  xmpp.Config
		want string
	}{
		{xmpp.Config{JID: "example.org", Password: "x"}, "jid must be user@domain"},
		{xmpp.Config{JID: "bot@example.org"}, "password is required"},
		{xmpp.Config{JID: "bot@example.org", Password: "x", Endpoint: adapters.Endpoint{Server: "nohost"}}, "server must be host:port"},
		{xmpp.Config{JID: "bot@example.org", Password: "x", Rooms: []string{"rooms.example.org"}}, "must be room@service"},
		{xmpp.Config{JID: "bot@example.org", Password: "x", Endpoint: adapters.Endpoint{CAFile: "/nonexistent.pem"}}, "nonexistent.pem"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.cfg, err, c.want)
		}
	}
	ok := xmpp.Config{JID: "bot@example.org", Password: "x"}
	if err := ok.Validate(); err != nil || ok.Nick != "bot" || ok.PingInterval != time.Minute || ok.MaxMessage != 8192 {
		t.Fatalf("defaults: %v, %+v", err, ok)
	}
}

// blocker holds its conversation's first message until released.
type blocker struct {
	consumer.Chat
	release <-chan struct{}
	seen    chan<- string
}

func (b *blocker) message(ctx context.Context, m consumer.ChatMessage) error {
	b.seen <- m.ChatText()
	<-b.release
	return nil
}

// A message that finds its conversation's inbox full is dropped, since
// waiting would stall the stream, and the drop is logged and counted;
// other conversations go on.
func TestFullInboxDropsAndCounts(t *testing.T) {
	srv := xmpptest.Start(t)
	alice := srv.Dial(t, "alice")
	release, seen := make(chan struct{}), make(chan string, 10)
	defer close(release)
	app := consumer.New(func() *blocker { return &blocker{release: release, seen: seen} }, consumer.OnMessage((*blocker).message))
	var logs logtest.Buffer
	runHost(t, botConfig(srv), app, logs.Logger(),
		[]adapters.HostOption{adapters.WithScopes(scope.Config{IdleTimeout: -1, InboxSize: 1})})
	bot := "bot@" + xmpptest.Domain
	alice.Say(bot, "held") // its handler blocks
	if got := recv(t, seen); got != "held" {
		t.Fatalf("got %q", got)
	}
	alice.Say(bot, "queued") // fills the inbox
	alice.Say(bot, "dropped")
	logs.Await(t, "dropped_total=1", xmpptest.Timeout)
	if !strings.Contains(logs.String(), "inbound message dropped") {
		t.Fatalf("log:\n%s", logs.String())
	}
	bob := srv.Dial(t, "bob")
	bob.Say(bot, "another conversation")
	if got := recv(t, seen); got != "another conversation" {
		t.Fatalf("got %q", got)
	}
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(xmpptest.Timeout):
		t.Fatal("the bot saw nothing in time")
		return ""
	}
}
