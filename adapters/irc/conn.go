package irc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ergochat/irc-go/ircevent"
	"github.com/ergochat/irc-go/ircmsg"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/fence"
	"github.com/switchboard-bots/switchboard/adapters/lines"
	"github.com/switchboard-bots/switchboard/adapters/reconnect"
	"github.com/switchboard-bots/switchboard/scope"
)

// conn is one connection: ircevent's (registration, the nick fallback,
// keepalive), with what a bot needs besides.
type conn struct {
	reconnect.Ending // Err: the first reason the server gave for refusing or closing

	irc *ircevent.Connection
	nc  net.Conn
	// Sends waiting for their PONG, by folded target: the server handles
	// a client's lines in order, so a refusal comes before the PONG.
	fences   fence.Set[string]
	userhost atomic.Value // string: the bot's user@host, once the server echoed its JOIN
}

// dial connects, registers, asks for the channels, and returns once the
// server welcomed the bot. ircevent's Connect waits for the server alone,
// so the adapter dials the socket itself and closes it if ctx ends first.
func (a *Adapter) dial(ctx context.Context, in *adapters.Intake) (*conn, error) {
	nc, err := a.cfg.Dial(ctx)
	if err != nil {
		return nil, err
	}
	c := a.newConn(ctx, in, nc)
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	if err := c.irc.Connect(); err != nil {
		stop()
		if errors.Is(err, ircevent.SASLFailed) {
			err = fmt.Errorf("%w: the server offers no SASL", ErrLogin)
		}
		return nil, cmp.Or(c.Err(), err) // Connect closed the socket
	}
	_, sasl := c.irc.AcknowledgedCaps()["sasl"]
	switch {
	case !stop():
		err = ctx.Err()
	case a.cfg.SASL != nil && !sasl: // the server ignored CAP
		err = fmt.Errorf("%w: registered without SASL", ErrLogin)
	}
	// A JOIN a channel: servers hold back, rather than refuse, what comes
	// faster than their flood rate, far below "Excess Flood".
	for i := 0; err == nil && i < len(a.cfg.Channels); i++ {
		err = c.irc.Send("JOIN", strings.Fields(a.cfg.Channels[i])...)
	}
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// newConn readies an ircevent connection over nc, which its Connect takes
// in place of dialing, with the callbacks of a bot.
func (a *Adapter) newConn(ctx context.Context, in *adapters.Intake, nc net.Conn) *conn {
	log := in.Logger().With("adapter", a.name, "server", a.cfg.Server)
	c := &conn{nc: nc, irc: &ircevent.Connection{
		Server: a.cfg.Server, Nick: a.cfg.Nick, User: a.cfg.Nick, Password: a.cfg.Password, QuitMessage: "shutting down",
		UseTLS: a.tls != nil, TLSConfig: a.tls,
		DialContext: func(context.Context, string, string) (net.Conn, error) { return nc, nil },
		Log:         slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	if a.cfg.SASL != nil {
		c.irc.SASLLogin, c.irc.SASLPassword = a.cfg.SASL.User, a.cfg.SASL.Password
	}
	c.irc.AddCallback("PRIVMSG", func(m ircmsg.Message) { a.deliver(ctx, in, c, &m) })
	c.irc.AddCallback("PONG", func(m ircmsg.Message) { c.fences.Settle(last(&m)) })
	c.irc.AddCallback("JOIN", func(m ircmsg.Message) {
		if from, err := m.NUH(); err == nil && c.isMe(from.Name) {
			c.userhost.Store(from.User + "@" + from.Host) // what the server relays of the bot
		}
	})
	c.irc.AddCallback("ERROR", func(m ircmsg.Message) {
		why := fmt.Errorf("irc: disconnected: %s", last(&m))
		if c.irc.CurrentNick() == "" && strings.Contains(strings.ToLower(last(&m)), "password") { // ngircd refuses PASS so
			why = fmt.Errorf("%w: %s", ErrLogin, last(&m))
		}
		c.Fail(why)
	})
	for _, code := range []string{"464", "465", "902", "904", "905", "906"} { // bad PASS, banned, SASL failed
		c.irc.AddCallback(code, func(m ircmsg.Message) { c.Fail(fmt.Errorf("%w: %s %s", ErrLogin, m.Command, last(&m))) })
	}
	// An error numeric naming a target (no such nick or channel, cannot
	// send to it...) refuses the open sends to that target.
	for _, code := range []string{"401", "403", "404", "406", "407", "411", "412", "477", "486", "492"} {
		c.irc.AddCallback(code, func(m ircmsg.Message) {
			err := &adapters.RefusedError{Adapter: a.name, Method: "PRIVMSG", Code: m.Command, Description: last(&m)}
			c.fences.Refuse(err, func(_, target string) bool { return len(m.Params) > 2 && target == fold(m.Params[1]) })
		})
	}
	c.irc.AddDisconnectCallback(func(ircmsg.Message) {
		nc.Close() // ircevent closes it only where it reconnects itself
		c.fences.Lose(fence.ErrLost)
		c.End(errors.New("irc: disconnected: the link dropped"))
	})
	return c
}

// deliver hands a PRIVMSG to its conversation without waiting (see
// Intake.Drop): a reader waiting for one full inbox would stop the PONGs
// that keep every other conversation connected.
func (a *Adapter) deliver(ctx context.Context, in *adapters.Intake, c *conn, m *ircmsg.Message) {
	from, err := m.NUH()
	if err != nil || len(m.Params) < 2 || ctx.Err() != nil || c.isMe(from.Name) || strings.HasPrefix(m.Params[1], "\x01") {
		return // malformed, shutting down, the bot's own echo, or CTCP
	}
	raw, _ := m.Line()
	ev := Message{Nick: from.Name, User: from.User, Host: from.Host, Text: m.Params[1], Raw: strings.TrimSuffix(raw, "\r\n")}
	key, chat := fold(from.Name), scope.Chat{ID: from.Name, Type: "private"}
	if target := m.Params[0]; isChannel(target) {
		ev.Channel, key, chat = target, fold(target), scope.Chat{ID: target, Type: "channel"}
		if a.cfg.KeyBy == "channel_user" {
			key += " " + fold(from.Name)
		}
	}
	me := c.irc.CurrentNick()
	err = lines.ErrNotUTF8 // dropped unless it is: a Message's Text is UTF-8
	if utf8.ValidString(ev.Text) {
		err = in.TryDeliver(key, ev, func() *scope.Scope {
			s := &scope.Scope{Type: Protocol, Adapter: a.name, Chat: chat,
				User: scope.User{ID: from.Name, Name: from.Name, Username: from.User},
				Bot:  scope.User{ID: me, Name: me, Username: me}}
			s.SetAdapterValue(chat.ID) // where Say and Send without a target go
			return s
		}, nil)
	}
	if err != nil {
		in.Drop(key, err, "from", from.Name)
	}
}

// Close implements reconnect.Conn: QUIT, which the server answers by
// closing the link; a server that has not within 5 s is hung up on.
func (c *conn) Close() error {
	c.irc.Quit()
	t := time.AfterFunc(5*time.Second, func() { c.nc.Close() })
	defer t.Stop()
	<-c.Done()
	return nil
}

// room returns the bytes left for a message's text to target: the server
// relays ":nick!user@host PRIVMSG target :text\r\n" in 512 bytes. Until
// it echoed the bot's JOIN, assume the longest usual user and host.
func (c *conn) room(target string) int {
	userhost, _ := c.userhost.Load().(string)
	userhost = cmp.Or(userhost, strings.Repeat("u", 10)+"@"+strings.Repeat("h", 63))
	return 512 - len(":"+c.irc.CurrentNick()+"!"+userhost+" PRIVMSG "+target+" :\r\n")
}

func isChannel(target string) bool {
	return target != "" && strings.ContainsRune("#&+!", rune(target[0]))
}

func (c *conn) isMe(nick string) bool { return fold(nick) == fold(c.irc.CurrentNick()) }

// fold is a name as a conversation key: IRC names ignore case.
func fold(name string) string { return strings.ToLower(name) }

func last(m *ircmsg.Message) string {
	if n := len(m.Params); n > 0 {
		return m.Params[n-1]
	}
	return ""
}
