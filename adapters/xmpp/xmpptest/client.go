package xmpptest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

// Timeout bounds every wait of a Client.
const Timeout = 10 * time.Second

// Client is a user logged in to the test server.
type Client struct {
	t        testing.TB
	JID      string
	s        *xmpp.Session
	messages chan Message

	mu       sync.Mutex
	presence map[string]string // the last presence type from each JID ("available" for none)
	changed  chan struct{}     // closed and replaced when presence changes
}

// Message is a message stanza the user received.
type Message struct {
	From, Type, ID, Body string
	// Delayed reports a delay element (XEP-0203): history or offline.
	Delayed bool
	// Error is the condition of an error message.
	Error string
	// State is the chat state it shows (XEP-0085): "composing", ...
	State string
}

// TLSConfig returns a TLS configuration that trusts the server.
func (s *Server) TLSConfig() *tls.Config {
	pem, err := os.ReadFile(s.caFile)
	if err != nil {
		s.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{ServerName: Domain, RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// Dial logs user in (registering the account first) with STARTTLS and
// SASL, and sends its initial presence; the connection closes when the
// test ends.
func (s *Server) Dial(t testing.TB, user string) *Client {
	t.Helper()
	addr := jid.MustParse(s.Register(user, user+"-pass") + "/test")
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := xmpp.NewClientSession(ctx, addr, nc,
		xmpp.StartTLS(s.TLSConfig()),
		xmpp.SASL("", user+"-pass", sasl.ScramSha1, sasl.Plain),
		xmpp.BindResource())
	if err != nil {
		nc.Close()
		t.Fatalf("%s: login: %v", user, err)
	}
	c := &Client{t: t, JID: addr.Bare().String(), s: sess,
		messages: make(chan Message, 1000), presence: map[string]string{}, changed: make(chan struct{})}
	served := make(chan struct{})
	go func() { defer close(served); _ = sess.Serve(xmpp.HandlerFunc(c.handle)) }()
	t.Cleanup(func() {
		_ = sess.Close()
		_ = sess.Conn().Close()
		<-served
	})
	c.Raw("<presence/>")
	return c
}

func (c *Client) handle(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	var st struct {
		From  string                       `xml:"from,attr"`
		Type  string                       `xml:"type,attr"`
		ID    string                       `xml:"id,attr"`
		Body  string                       `xml:"body"`
		Delay *struct{}                    `xml:"urn:xmpp:delay delay"`
		Any   []struct{ XMLName xml.Name } `xml:",any"`
		Error struct {
			Cond []struct{ XMLName xml.Name } `xml:",any"`
		} `xml:"error"`
	}
	if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), r)).Decode(&st); err != nil {
		return err
	}
	switch start.Name.Local {
	case "message":
		m := Message{From: st.From, Type: st.Type, ID: st.ID, Body: st.Body, Delayed: st.Delay != nil}
		for _, e := range st.Any {
			if e.XMLName.Space == "http://jabber.org/protocol/chatstates" {
				m.State = e.XMLName.Local
			}
		}
		for _, e := range st.Error.Cond {
			if e.XMLName.Local != "text" {
				m.Error = e.XMLName.Local
			}
		}
		c.messages <- m
	case "presence":
		if st.Type == "" {
			st.Type = "available"
		}
		c.mu.Lock()
		c.presence[st.From] = st.Type
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
	}
	return nil
}

// bounded returns the context of one write of the session, which ends
// after Timeout unless done was called first. It is not cancelled when
// done: the session moves the socket's write deadline into the past when
// a write's context ends, from a goroutine that may see the end only after
// the write returned, and would then fail the client's next write.
func bounded() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	t := time.AfterFunc(Timeout, cancel)
	return ctx, func() { t.Stop() }
}

// Raw sends one stanza written as XML.
func (c *Client) Raw(stanza string) {
	c.t.Helper()
	ctx, done := bounded()
	defer done()
	if err := c.s.Send(ctx, xmlstream.ReaderFunc(xml.NewDecoder(strings.NewReader(stanza)).RawToken)); err != nil {
		c.t.Fatalf("%s: send: %v", c.JID, err)
	}
}

// Say sends a one-to-one chat message to a JID.
func (c *Client) Say(to, text string) {
	c.t.Helper()
	c.Raw(fmt.Sprintf(`<message type="chat" to="%s"><body>%s</body></message>`, esc(to), esc(text)))
}

// SayRoom sends a message to room (a localpart on MUC).
func (c *Client) SayRoom(room, text string) {
	c.t.Helper()
	c.Raw(fmt.Sprintf(`<message type="groupchat" to="%s@%s"><body>%s</body></message>`, esc(room), MUC, esc(text)))
}

// Join enters room (a localpart on MUC) as nick, creating it if need be,
// and waits for the room's presence of the user itself. The user asks for
// no history.
func (c *Client) Join(room, nick string) {
	c.t.Helper()
	occupant := room + "@" + MUC + "/" + nick
	c.Raw(fmt.Sprintf(`<presence to="%s"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`, esc(occupant)))
	c.Presence("", occupant)
}

// IQ sends an IQ written as XML and waits for its answer, failing the
// test on an error answer.
func (c *Client) IQ(iq string) {
	c.t.Helper()
	ctx, done := bounded()
	defer done()
	if err := c.s.UnmarshalIQ(ctx, xmlstream.ReaderFunc(xml.NewDecoder(strings.NewReader(iq)).RawToken), nil); err != nil {
		c.t.Fatalf("%s: IQ %s: %v", c.JID, iq, err)
	}
}

// Block blocks every stanza from a JID (XEP-0191): the server refuses
// what that JID sends the user.
func (c *Client) Block(who string) {
	c.t.Helper()
	c.IQ(fmt.Sprintf(`<iq type="set"><block xmlns="urn:xmpp:blocking"><item jid="%s"/></block></iq>`, esc(who)))
}

// Mute makes nick a visitor in room, which the user must moderate: the
// room refuses its messages from then on.
func (c *Client) Mute(room, nick string) {
	c.t.Helper()
	c.IQ(fmt.Sprintf(`<iq type="set" to="%s@%s"><query xmlns="http://jabber.org/protocol/muc#admin"><item nick="%s" role="visitor"/></query></iq>`,
		esc(room), MUC, esc(nick)))
}

// Next returns the next message the user received, failing the test
// after Timeout.
func (c *Client) Next() Message {
	c.t.Helper()
	select {
	case m := <-c.messages:
		return m
	case <-time.After(Timeout):
		c.t.Fatalf("%s: no message within %v", c.JID, Timeout)
		return Message{}
	}
}

// From returns the next message with a body from the JID from (bare, or
// a room occupant), skipping others.
func (c *Client) From(from string) Message {
	c.t.Helper()
	for {
		if m := c.Next(); m.Body != "" && (m.From == from || strings.HasPrefix(m.From, from+"/")) {
			return m
		}
	}
}

// TryNext returns a message already received, if there is one.
func (c *Client) TryNext() (Message, bool) {
	select {
	case m := <-c.messages:
		return m, true
	default:
		return Message{}, false
	}
}

// Presence waits until the last presence from each JID in from is of
// type typ ("" for available), failing the test after Timeout.
func (c *Client) Presence(typ string, from ...string) {
	c.t.Helper()
	if typ == "" {
		typ = "available"
	}
	timeout := time.After(Timeout)
	for {
		c.mu.Lock()
		changed, missing := c.changed, ""
		for _, f := range from {
			if c.presence[f] != typ {
				missing = f
			}
		}
		c.mu.Unlock()
		if missing == "" {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			c.t.Fatalf("%s: no presence %q from %s within %v", c.JID, typ, missing, Timeout)
		}
	}
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
