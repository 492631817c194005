package irc

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/lines"
	"github.com/switchboard-bots/switchboard/adapters/reconnect"
	"github.com/switchboard-bots/switchboard/adapters/throttle"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

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

// Send implements adapters.Adapter: a chat.say to its To, or else to the
// scope's own channel or nick, as PRIVMSGs cut at newlines and at what
// the server relays in 512 bytes, paced by Config.Flood. A PING follows
// them, and Send returns at its PONG (package fence), with a
// *adapters.RefusedError if the server refused the target before (401
// no such nick, 404 cannot send to channel...), or fence.ErrLost if the
// link dropped first.
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
