package irc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Send implements adapters.Adapter: irc.send, and chat.say to the scope's
// own channel or nick. It returns once the server handled the message: a
// *adapters.RefusedError carries the server's error numeric (404, cannot
// send to channel; 401, no such nick).
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	own, _ := adapters.Value[string](s)
	switch ev.Type() {
	case event.Say{}.Type():
		say, err := event.Decode[event.Say](ev)
		if err != nil {
			return err
		}
		return a.say(ctx, cmp.Or(say.To, own), say.Text)
	case Send{}.Type():
		send, err := event.Decode[Send](ev)
		if err != nil {
			return err
		}
		if send.Target == "" {
			send.Target = own
		}
		return a.say(ctx, send.Target, send.Text)
	}
	return fmt.Errorf("irc: cannot send %q: %w", ev.Type(), adapters.ErrUnsupported)
}

// Push implements adapters.Pusher: an irc.send naming its target, or a
// chat.say naming it in To.
func (a *Adapter) Push(ctx context.Context, ev event.Event) error {
	send, err := event.Decode[Send](ev)
	if say, ok, serr := event.AsSay(ev); ok {
		send, err = Send{Target: say.To, Text: say.Text}, serr
	}
	if err != nil {
		return err
	}
	if send.Target == "" {
		return errors.New("irc: a pushed irc.send needs a target")
	}
	return a.say(ctx, send.Target, send.Text)
}

// say sends text to target as PRIVMSGs, paced by the flood control, once
// connected, and waits for the server's verdict.
func (a *Adapter) say(ctx context.Context, target, text string) error {
	if target == "" || strings.ContainsAny(target, " ,\r\n\x00") {
		return fmt.Errorf("irc: bad target %q", target)
	}
	a.mu.Lock()
	c, up, report := a.conn, a.up, a.report
	a.mu.Unlock()
	if c == nil {
		select {
		case <-up:
			return a.say(ctx, target, text)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	token, f := c.open(target)
	for _, piece := range split(text, c.room(target)) {
		d, err := a.bucket.wait(ctx)
		report.Waited(d)
		if err == nil {
			err = c.write("PRIVMSG", target, piece)
		}
		if err != nil {
			c.fenced(token)
			return err
		}
	}
	if err := c.write("PING", token); err != nil {
		return err
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		c.fenced(token)
		return ctx.Err()
	}
	switch {
	case f.refused != nil:
		r := *f.refused
		r.Adapter = a.name
		return &r
	case f.lost:
		return errLost
	}
	return nil
}

// split cuts text into messages: one per line, each line cut into pieces
// of at most room bytes on UTF-8 boundaries, at a space where there is
// one (the space is dropped). Empty lines are dropped: IRC cannot send
// them.
func split(text string, room int) []string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\x00", "")
	room = max(room, utf8.UTFMax) // always progress, even on a silly target
	var out []string
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' }) {
		for len(line) > room {
			cut := room
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			next := cut
			if sp := strings.LastIndexByte(line[:cut+1], ' '); sp > 0 {
				cut, next = sp, sp+1 // the space goes: servers trim it anyway
			}
			out = append(out, line[:cut])
			line = line[next:]
		}
		out = append(out, line)
	}
	return out
}

// bucket is the flood control, a token bucket kept as the time its next
// free token comes (GCRA): a line may go when that time is at most
// burst-1 intervals ahead of now.
type bucket struct {
	clock scope.Clock
	burst int
	every time.Duration

	mu  sync.Mutex
	tat time.Time // when the bucket is full again
}

// wait takes a token, waiting for it as long as it takes, and returns how
// long it waited.
func (b *bucket) wait(ctx context.Context) (time.Duration, error) {
	b.mu.Lock()
	now := b.clock.Now()
	if b.tat.Before(now) {
		b.tat = now
	}
	d := b.tat.Sub(now) - time.Duration(b.burst-1)*b.every
	b.tat = b.tat.Add(b.every)
	b.mu.Unlock()
	if d <= 0 {
		return 0, nil
	}
	select {
	case <-b.clock.After(d):
		return d, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
