package irc

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ergochat/irc-go/ircevent"
	"github.com/ergochat/irc-go/ircmsg"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/fence"
)

// quitWait bounds the wait for the server to close the link after QUIT.
const quitWait = 5 * time.Second

// conn is one connection to the server. ircevent registers (PASS, CAP and
// SASL PLAIN, NICK with "_0", "_1"... appended while the nick is taken),
// answers the server's PINGs, drops a link that stops answering its own,
// and reads and writes the socket; conn adds what a bot needs of it.
type conn struct {
	name string // the adapter's, for its refusals
	irc  *ircevent.Connection
	nc   net.Conn
	done chan struct{} // closed once a registered connection is gone

	// Sends waiting for their PONG, by folded target: the server handles
	// a client's lines in order, so a refusal comes before the PONG.
	fences fence.Set[string]

	userhost atomic.Value // string: the bot's user@host, once the server echoed a JOIN

	// Written by the reader; read once it returned.
	login  error  // the server refused the bot's credentials
	closed string // the server's ERROR: why it closed the link
}

func newConn(name string, nc net.Conn, cfg Config, tc *tls.Config, log *slog.Logger) *conn {
	c := &conn{name: name, nc: nc, done: make(chan struct{}), irc: &ircevent.Connection{
		Server: cfg.Server, Nick: cfg.Nick, User: cfg.Nick, Password: cfg.Password, QuitMessage: "shutting down",
		UseTLS: tc != nil, TLSConfig: tc,
		DialContext: func(context.Context, string, string) (net.Conn, error) { return nc, nil },
		Log:         slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	if cfg.SASL != nil {
		c.irc.SASLLogin, c.irc.SASLPassword = cfg.SASL.User, cfg.SASL.Password
	}
	c.irc.AddCallback("PONG", func(m ircmsg.Message) { c.fences.Settle(last(&m)) })
	c.irc.AddCallback("JOIN", func(m ircmsg.Message) {
		if from, err := m.NUH(); err == nil && c.isMe(from.Name) {
			c.userhost.Store(from.User + "@" + from.Host) // what the server relays of the bot
		}
	})
	c.irc.AddCallback("ERROR", func(m ircmsg.Message) { c.closed = last(&m) })
	for _, code := range []string{"464", "465", "902", "904", "905", "906"} { // bad PASS, banned, SASL failed
		c.irc.AddCallback(code, func(m ircmsg.Message) { c.login = fmt.Errorf("%w: %s %s", ErrLogin, m.Command, last(&m)) })
	}
	for _, code := range []string{"401", "403", "404", "406", "407", "411", "412", "477", "486", "492"} {
		c.irc.AddCallback(code, c.refused)
	}
	c.irc.AddDisconnectCallback(func(ircmsg.Message) {
		nc.Close() // ircevent closes it only where it reconnects itself
		c.fences.Lose(fence.ErrLost)
		close(c.done)
	})
	return c
}

// Done implements reconnect.Conn.
func (c *conn) Done() <-chan struct{} { return c.done }

// Err implements reconnect.Conn.
func (c *conn) Err() error {
	return cmp.Or(c.login, fmt.Errorf("irc: disconnected: %s", cmp.Or(c.closed, "the link dropped")))
}

// Close implements reconnect.Conn: QUIT, which the server answers by
// closing the link, then close.
func (c *conn) Close() error {
	c.irc.Quit()
	select {
	case <-c.done:
	case <-time.After(quitWait):
	}
	c.nc.Close()
	<-c.done
	return nil
}

// refusal returns why registration failed: ErrLogin when the server
// refused the bot's credentials.
func (c *conn) refusal(err error) error {
	switch {
	case c.login != nil:
		return c.login
	case errors.Is(err, ircevent.SASLFailed):
		return fmt.Errorf("%w: the server offers no SASL", ErrLogin)
	case strings.Contains(strings.ToLower(c.closed), "password"): // ngircd refuses PASS so
		return fmt.Errorf("%w: %s", ErrLogin, c.closed)
	}
	return err
}

// join asks for each channel in a line of its own ("JOIN #chan key"):
// servers hold back, rather than refuse, what comes faster than their
// flood rate, and a JOIN a channel stays far below the unread bytes that
// would end in "Excess Flood".
func (c *conn) join(channels []string) error {
	for _, ch := range channels {
		if err := c.irc.Send("JOIN", strings.Fields(ch)...); err != nil {
			return err
		}
	}
	return nil
}

// room returns the bytes left for a message's text to target: the server
// relays ":nick!user@host PRIVMSG target :text\r\n" in 512 bytes. Until
// the server echoed the bot's JOIN, it assumes the longest usual user
// (10) and host (63).
func (c *conn) room(target string) int {
	userhost, _ := c.userhost.Load().(string)
	userhost = cmp.Or(userhost, strings.Repeat("u", 10)+"@"+strings.Repeat("h", 63))
	return 512 - len(":"+c.irc.CurrentNick()+"!"+userhost+" PRIVMSG "+target+" :\r\n")
}

// refused files an error numeric naming a target with the open fences
// for it: ERR_NOSUCHNICK, ERR_NOSUCHCHANNEL, ERR_CANNOTSENDTOCHAN and the
// like.
func (c *conn) refused(m ircmsg.Message) {
	if len(m.Params) < 3 {
		return
	}
	err := &adapters.RefusedError{Adapter: c.name, Method: "PRIVMSG", Code: m.Command, Description: last(&m)}
	c.fences.Refuse(err, func(_, target string) bool { return target == fold(m.Params[1]) })
}

func (c *conn) isMe(nick string) bool { return fold(nick) == fold(c.irc.CurrentNick()) }

// last returns m's last parameter.
func last(m *ircmsg.Message) string {
	if len(m.Params) == 0 {
		return ""
	}
	return m.Params[len(m.Params)-1]
}
