package irc

import (
	"cmp"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ergochat/irc-go/ircmsg"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/fence"
)

// errLost fails a Send whose connection dropped before the server
// confirmed it: the message may or may not have gone out.
var errLost = errors.New("irc: connection lost before the server confirmed the message")

// conn is one connection to the server.
type conn struct {
	nc       net.Conn
	wmu      sync.Mutex    // serialises writes
	welcomed chan struct{} // closed once registered and joining
	done     chan struct{} // closed once the reader returned
	err      error         // why the reader returned; set before done

	registered, saslOK bool // owned by the reader

	// Sends waiting for their PONG, by folded target: the server handles
	// a client's lines in order, so a refusal comes before the PONG.
	fences fence.Set[string]

	mu     sync.Mutex // guards the fields below
	me     string     // the bot's nick
	prefix string     // the bot's nick!user@host, once the server echoed a JOIN
}

func newConn(nc net.Conn, nick string) *conn {
	return &conn{nc: nc, me: nick,
		welcomed: make(chan struct{}), done: make(chan struct{})}
}

// serve runs the reader, then closes the connection and fails every
// fence: nothing more can be confirmed.
func (c *conn) serve(read func() error) {
	err := read()
	c.nc.Close()
	c.fences.Lose(errLost)
	c.err = err
	close(c.done)
}

// Done implements reconnect.Conn.
func (c *conn) Done() <-chan struct{} { return c.done }

// Err implements reconnect.Conn.
func (c *conn) Err() error { return c.err }

// Close implements reconnect.Conn: QUIT, if registered, then close.
func (c *conn) Close() error {
	select {
	case <-c.welcomed:
		_ = c.write("QUIT", "shutting down")
	default:
	}
	err := c.nc.Close()
	<-c.done
	return err
}

// write sends one line; a line that would not fit in 512 bytes, or that
// holds CR, LF or NUL, is an error rather than a truncated message.
func (c *conn) write(cmd string, params ...string) error {
	m := ircmsg.MakeMessage(nil, "", cmd, params...)
	line, err := m.LineBytesStrict(true, 512)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Minute))
	_, err = c.nc.Write(line)
	return err
}

// join joins every channel in one line ("JOIN #a,#b key"), keyed
// channels first as the protocol requires.
func (c *conn) join(channels []string) error {
	var keyed, open, keys []string
	for _, ch := range channels {
		if name, key, ok := strings.Cut(ch, " "); ok {
			keyed, keys = append(keyed, name), append(keys, strings.TrimSpace(key))
		} else {
			open = append(open, ch)
		}
	}
	if len(channels) == 0 {
		return nil
	}
	params := []string{strings.Join(append(keyed, open...), ",")}
	if len(keys) > 0 {
		params = append(params, strings.Join(keys, ","))
	}
	return c.write("JOIN", params...)
}

// room returns the bytes left for a message's text to target: the server
// relays ":nick!user@host PRIVMSG target :text\r\n" in 512 bytes. Until
// the server echoed the bot's prefix, it assumes the longest usual user
// (10) and host (63).
func (c *conn) room(target string) int {
	c.mu.Lock()
	prefix := cmp.Or(c.prefix, c.me+"!"+strings.Repeat("u", 10)+"@"+strings.Repeat("h", 63))
	c.mu.Unlock()
	return 512 - len(":"+prefix+" PRIVMSG "+target+" :\r\n")
}

// refused files an error numeric naming a target with the open fences
// for it: ERR_NOSUCHNICK, ERR_NOSUCHCHANNEL, ERR_CANNOTSENDTOCHAN and the
// like.
func (c *conn) refused(adapter string, m *ircmsg.Message) {
	if len(m.Params) < 3 || !strings.Contains(" 401 403 404 406 407 411 412 477 486 492 ", " "+m.Command+" ") {
		return
	}
	err := &adapters.RefusedError{Adapter: adapter, Method: "PRIVMSG", Code: m.Command, Description: m.Params[len(m.Params)-1]}
	c.fences.Refuse(err, func(_, target string) bool { return target == fold(m.Params[1]) })
}

func (c *conn) nick() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.me
}

func (c *conn) setNick(n string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.me = n
	if _, host, ok := strings.Cut(c.prefix, "!"); ok {
		c.prefix = n + "!" + host
	}
	return n
}

func (c *conn) setPrefix(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prefix = p
}

func (c *conn) isMe(nick string) bool { return fold(nick) == fold(c.nick()) }
