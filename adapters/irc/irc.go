package irc

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/lines"
	"github.com/switchboard-bots/switchboard/adapters/reconnect"
	"github.com/switchboard-bots/switchboard/adapters/throttle"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Protocol is the scope type of IRC conversations.
const Protocol = "irc"

// Message is a PRIVMSG to a channel the bot is in, or to the bot itself.
type Message struct {
	// Channel is the channel it was said in; "" for a private message.
	Channel string `msgpack:"channel"`
	// Nick, User and Host identify the sender (nick!user@host).
	Nick string `msgpack:"nick"`
	User string `msgpack:"user"`
	Host string `msgpack:"host"`
	Text string `msgpack:"text"`
	// Raw is the line the server sent, written again from its tags,
	// source, command and parameters, without its line end.
	Raw string `msgpack:"raw"`
}

var _ event.ChatMessage = Message{}

// Type implements event.Event.
func (Message) Type() string { return "irc.message" }

// ChatText implements event.ChatMessage.
func (m Message) ChatText() string { return m.Text }

// ChatReply implements event.ChatMessage: a chat.say to the channel, or
// to the sender of a private message.
func (m Message) ChatReply(text string) event.Event {
	return event.Say{To: cmp.Or(m.Channel, m.Nick), Text: text}
}

// Config is the adapter's section of the config file.
type Config struct {
	// Endpoint is the server's host:port, and with TLS a CA file to trust.
	adapters.Endpoint `yaml:",inline"`
	// TLS connects with TLS, trusting the system's roots and CAFile.
	TLS bool `yaml:"tls"`
	// Nick is the bot's nickname. While it is taken the bot registers as
	// Nick_0, Nick_1..., and asks for Nick again every few minutes.
	Nick string `yaml:"nick"`
	// Password is the server password (PASS), if the server has one.
	Password string `yaml:"password"`
	// SASL logs in to an account with SASL PLAIN before registration.
	SASL *SASL `yaml:"sasl"`
	// Channels are joined on every connection: "#chan", or "#chan key".
	Channels []string `yaml:"channels"`
	// KeyBy is what a channel's conversation is: "channel" (default), one
	// scope for the channel, or "channel_user", one per user in it.
	// Private messages are one conversation per nick either way.
	KeyBy string `yaml:"key_by"`
	// Flood paces the bot's messages. Default: 5 lines at once, then one
	// per 2 s, the flood control of RFC 1459 section 8.10 that servers
	// still apply: a bot that sends faster is held back, then
	// disconnected for "Excess Flood".
	Flood throttle.Rate `yaml:"flood"`
}

// SASL holds the account the bot logs in to.
type SASL struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// check validates c, fills its defaults, and returns its TLS
// configuration (nil without TLS).
func (c *Config) check() (*tls.Config, error) {
	errs := []error{c.CheckServer()}
	if c.Nick == "" || strings.ContainsAny(c.Nick, " ,*?!@#:") {
		errs = append(errs, fmt.Errorf("nick %q is not a valid nickname", c.Nick))
	}
	for _, ch := range c.Channels {
		if !isChannel(ch) || len(strings.Fields(ch)) > 2 {
			errs = append(errs, fmt.Errorf("channel %q must be \"#chan\" or \"#chan key\" (or start with &, + or !)", ch))
		}
	}
	c.KeyBy = cmp.Or(c.KeyBy, "channel")
	if c.KeyBy != "channel" && c.KeyBy != "channel_user" {
		errs = append(errs, fmt.Errorf("key_by must be channel or channel_user, got %q", c.KeyBy))
	}
	if c.SASL != nil && (c.SASL.User == "" || c.SASL.Password == "") {
		errs = append(errs, errors.New("sasl needs a user and a password"))
	}
	c.Flood = c.Flood.Or(throttle.Rate{Burst: 5, Interval: 2 * time.Second})
	if err := errors.Join(errs...); err != nil || !c.TLS {
		return nil, err
	}
	return c.TLSConfig("")
}

// Factory builds an adapter from its section of the config file.
var Factory = adapters.FactoryFor(New)

// ErrLogin is wrapped by the error Serve returns when the server refuses
// the bot's credentials (PASS or SASL): trying again cannot help.
var ErrLogin = errors.New("irc: login refused")

// Adapter is the IRC adapter: one connection to one server, kept up
// across drops, serving every channel and private conversation on it.
type Adapter struct {
	name   string
	cfg    Config
	tls    *tls.Config
	link   *reconnect.Link[*conn]
	flood  *throttle.Bucket // set by Serve, as report, before the first connection is up
	report adapters.Report
}

var _ adapters.Pusher = (*Adapter)(nil)

// New returns an adapter called name ("irc" if empty) for cfg.
func New(name string, cfg Config) (*Adapter, error) {
	name = cmp.Or(name, Protocol)
	tc, err := cfg.check()
	if err != nil {
		return nil, fmt.Errorf("irc %s: %w", name, err)
	}
	a := &Adapter{name: name, cfg: cfg, tls: tc}
	a.link = reconnect.New(a.dial, reconnect.Options{Fatal: func(err error) bool { return errors.Is(err, ErrLogin) }})
	return a, nil
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.name }

// Serve implements adapters.Adapter with a reconnect.Link: it fails only
// when the server refuses the bot's login (ErrLogin). The flood control
// and the backoff run on the Host's clock.
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	a.report, a.flood = in.Report(), a.cfg.Flood.Bucket(in.Clock())
	return a.link.Serve(ctx, in)
}

// Send implements adapters.Adapter: a chat.say to its To, or else the
// scope's channel or nick, as PRIVMSGs cut to what the server relays in
// 512 bytes and paced by Config.Flood, then a PING. It returns at the
// PONG (package fence), with the *adapters.RefusedError of a refusal
// before it (401 no such nick, 404 cannot send to channel...), or with
// fence.ErrLost if the link dropped first.
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	own, _ := adapters.Value[string](s)
	say, err := event.Decode[event.Say](ev)
	if err != nil {
		return fmt.Errorf("irc: cannot send %q: %w: %w", ev.Type(), adapters.ErrUnsupported, err)
	}
	target := cmp.Or(say.To, own)
	if target == "" || strings.ContainsAny(target, " ,\r\n\x00") {
		return fmt.Errorf("irc: bad target %q", target)
	}
	c, err := a.link.Current(ctx)
	if err != nil {
		return err
	}
	f := c.fences.Open(fold(target))
	defer c.fences.Settle(f.Token)
	for _, piece := range lines.Split(say.Text, c.room(target)) {
		d, err := a.flood.Wait(ctx)
		a.report.Waited(d)
		if err == nil {
			err = c.irc.Send("PRIVMSG", target, piece)
		}
		if err != nil {
			return err
		}
	}
	if err := c.irc.Send("PING", f.Token); err != nil {
		return err
	}
	return f.Wait(ctx)
}

// Push implements adapters.Pusher: a chat.say naming its target in To.
func (a *Adapter) Push(ctx context.Context, ev event.Event) error { return a.Send(ctx, nil, ev) }
