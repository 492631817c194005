package irc

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/lines"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Send implements adapters.Adapter: irc.send, and chat.say, to their
// target or else the scope's own channel or nick. It returns once the
// server handled the message: a *adapters.RefusedError carries the
// server's error numeric (404, cannot send to channel; 401, no such nick).
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	own, _ := adapters.Value[string](s)
	return a.send(ctx, ev, own)
}

// Push implements adapters.Pusher: an irc.send naming its target, or a
// chat.say naming it in To.
func (a *Adapter) Push(ctx context.Context, ev event.Event) error { return a.send(ctx, ev, "") }

func (a *Adapter) send(ctx context.Context, ev event.Event, own string) error {
	send, err := event.Decode[Send](ev)
	if say, ok, serr := event.AsSay(ev); ok {
		send, err = Send{Target: say.To, Text: say.Text}, serr
	}
	if err != nil {
		return fmt.Errorf("irc: cannot send %q: %w: %w", ev.Type(), adapters.ErrUnsupported, err)
	}
	return a.say(ctx, cmp.Or(send.Target, own), send.Text)
}

// say sends text to target as PRIVMSGs, one per line and cut to what the
// server can relay, paced by the flood control, once connected; then it
// sends a PING and waits for the server's verdict (package fence).
func (a *Adapter) say(ctx context.Context, target, text string) error {
	if target == "" || strings.ContainsAny(target, " ,\r\n\x00") {
		return fmt.Errorf("irc: bad target %q", target)
	}
	c, err := a.link.Current(ctx)
	if err != nil {
		return err
	}
	f := c.fences.Open(fold(target))
	defer c.fences.Settle(f.Token)
	for _, piece := range lines.Split(text, c.room(target)) {
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
