package xmpp

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"time"

	"mellium.im/xmlstream"
	xmpplib "mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/switchboard-bots/switchboard/adapters/fence"
	"github.com/switchboard-bots/switchboard/adapters/reconnect"
)

// conn is one negotiated stream to the server.
type conn struct {
	reconnect.Ending // ends once the stream is gone

	s *xmpplib.Session

	// Messages waiting for the server's verdict, by id. The server
	// handles a client's stanzas in order and bounces a message it cannot
	// deliver (to a local account or a room on it) before it answers the
	// next stanza, so a ping after the message settles it.
	fences fence.Set[jid.JID]

	mu    sync.Mutex
	rooms map[string]string  // joined room (bare JID) -> the bot's nick in it
	joins map[string]pending // joins waiting for the room's answer, by room
}

type pending struct {
	nick string
	done chan *stanza.Error // nil once in the room
}

func newConn(s *xmpplib.Session) *conn {
	return &conn{s: s, rooms: map[string]string{}, joins: map[string]pending{}}
}

// Close implements reconnect.Conn: it says the bot is away, then hangs up.
func (c *conn) Close() error {
	bye, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.raw(bye, `<presence type="unavailable"/>`)
	return c.hangUp()
}

// hangUp closes the stream and the connection, and waits for the reader.
func (c *conn) hangUp() error {
	err := c.s.Close()
	_ = c.s.Conn().Close()
	<-c.Done()
	return err
}

// bound returns a context that ends with ctx or once the stream is gone,
// for a call that waits for the server's answer.
func (c *conn) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-c.Done():
		case <-ctx.Done():
		}
		cancel()
	}()
	return ctx, cancel
}

// inbound is what the adapter reads of a message stanza.
type inbound struct {
	stanza.Message
	Body   string        `xml:"body"`
	Delay  *struct{}     `xml:"urn:xmpp:delay delay"`
	Legacy *struct{}     `xml:"jabber:x:delay x"` // XEP-0091, before XEP-0203
	Error  *stanza.Error `xml:"error"`
}

// presence is what the adapter reads of a presence stanza.
type presence struct {
	stanza.Presence
	Error *stanza.Error `xml:"error"`
	X     *struct {
		Status []struct {
			Code int `xml:"code,attr"`
		} `xml:"status"`
	} `xml:"http://jabber.org/protocol/muc#user x"`
}

// decode reads the stanza at start into v and returns it as XML too.
func decode(r xml.TokenReader, start *xml.StartElement, v any) (string, error) {
	var raw bytes.Buffer
	enc := xml.NewEncoder(&raw)
	// The decoder must see the start element too, to match its end.
	whole := xmlstream.MultiReader(xmlstream.Token(*start), r)
	err := xml.NewTokenDecoder(xmlstream.TeeReader(whole, plainNS{enc})).Decode(v)
	if ferr := enc.Flush(); err == nil {
		err = ferr
	}
	return raw.String(), err
}

// presenceDone handles the room's answer to a join: the bot's own
// presence (status 110, or from the nick it asked for, which the room may
// have changed) or an error.
func (c *conn) presenceDone(p *presence) {
	room := p.From.Bare().String()
	c.mu.Lock()
	defer c.mu.Unlock()
	j, ok := c.joins[room]
	switch {
	case !ok:
		if p.Type == stanza.UnavailablePresence && p.hasStatus(110) && !p.hasStatus(303) {
			delete(c.rooms, room) // kicked or banned: left until the next connection
		}
	case p.Type == stanza.ErrorPresence:
		e := p.Error
		if e == nil {
			e = &stanza.Error{Condition: stanza.UndefinedCondition}
		}
		delete(c.joins, room)
		j.done <- e
	case p.Type == stanza.AvailablePresence && (p.hasStatus(110) || p.From.Resourcepart() == j.nick):
		c.rooms[room] = p.From.Resourcepart()
		delete(c.joins, room)
		j.done <- nil
	}
}

func (p *presence) hasStatus(code int) bool {
	if p.X == nil {
		return false
	}
	for _, s := range p.X.Status {
		if s.Code == code {
			return true
		}
	}
	return false
}

// join enters room as nick and waits for the room's answer. noHistory
// asks for no history (XEP-0045 7.2.15); what a room replays anyway is
// dropped by its delay element.
func (c *conn) join(ctx context.Context, room jid.JID, nick string, noHistory bool) error {
	occupant, err := room.WithResource(nick)
	if err != nil {
		return err
	}
	done := make(chan *stanza.Error, 1)
	c.mu.Lock()
	c.joins[room.String()] = pending{nick: nick, done: done}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.joins, room.String())
		c.mu.Unlock()
	}()
	x := `<x xmlns="http://jabber.org/protocol/muc"/>`
	if noHistory {
		x = `<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x>`
	}
	if err := c.raw(ctx, fmt.Sprintf(`<presence to="%s">%s</presence>`, attr(occupant.String()), x)); err != nil {
		return err
	}
	select {
	case e := <-done:
		if e != nil {
			return *e
		}
		return nil
	case <-c.Done():
		return fence.ErrLost
	case <-ctx.Done():
		return ctx.Err()
	}
}

// roomNick returns the bot's nick in room, and whether the bot is in it.
func (c *conn) roomNick(room string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	nick, ok := c.rooms[room]
	return nick, ok
}

// bounced files an error message from from with the fence of its id,
// and reports whether one was waiting. A bounce must come from where the
// message went, or from that address's server: nobody else can refuse
// it for them.
func (c *conn) bounced(id string, from jid.JID, e *stanza.Error) bool {
	return c.fences.Refuse(*e, func(token string, to jid.JID) bool {
		return token == id && (from.Bare().Equal(to.Bare()) || from.Equal(to.Domain()))
	}) > 0
}

// plainNS drops the xmlns attributes of the elements it encodes: the
// decoder keeps them beside the names' own spaces, and the encoder would
// write them twice.
type plainNS struct{ *xml.Encoder }

func (p plainNS) EncodeToken(t xml.Token) error {
	if se, ok := t.(xml.StartElement); ok {
		attrs := make([]xml.Attr, 0, len(se.Attr))
		for _, a := range se.Attr {
			if a.Name.Space != "xmlns" && (a.Name.Space != "" || a.Name.Local != "xmlns") {
				attrs = append(attrs, a)
			}
		}
		se.Attr = attrs
		t = se
	}
	return p.Encoder.EncodeToken(t)
}

// raw sends one stanza written as XML.
func (c *conn) raw(ctx context.Context, s string) error {
	wctx, done := whileWriting(ctx)
	defer done()
	return c.s.Send(wctx, rawXML(s))
}

// whileWriting returns a context for one of the session's writes: it ends
// when ctx does while the write runs, and never once done is called. The
// session ends a write whose context ends by moving the socket's write
// deadline into the past, from a goroutine of its own that may see the
// context's end only after the write returned: a caller's usual deferred
// cancel would then fail whichever write another goroutine was making,
// with an i/o timeout.
func whileWriting(ctx context.Context) (context.Context, func()) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	return wctx, func() { stop() }
}

// rawXML reads s's tokens as written: names keep their xmlns attributes
// and no resolved spaces, so that they are encoded once.
func rawXML(s string) xml.TokenReader {
	return xmlstream.ReaderFunc(xml.NewDecoder(strings.NewReader(s)).RawToken)
}

// attr escapes s for an attribute value or text.
func attr(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
