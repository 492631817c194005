package xmpp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	xmpplib "mellium.im/xmpp"
	"mellium.im/xmpp/dial"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// dial connects and negotiates a stream: STARTTLS (required: the SASL
// feature needs a secure stream, so the password never goes in clear),
// SASL with the strongest mechanism both sides have, and a resource.
// SCRAM's channel-binding variants (-PLUS) are left out: servers differ
// in the binding types they take, and a mismatch would refuse the login
// for good; the verified certificate already binds the stream to the
// server.
func (a *Adapter) dial(ctx context.Context) (*xmpplib.Session, error) {
	var nc net.Conn
	var err error
	if a.cfg.Server != "" {
		nc, err = a.cfg.Dial(ctx)
	} else {
		d := dial.Dialer{NoTLS: true, Dialer: net.Dialer{Timeout: adapters.DialTimeout}}
		nc, err = d.Dial(ctx, "tcp", a.p.me.Domain())
	}
	if err != nil {
		return nil, err
	}
	nctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s, err := xmpplib.NewClientSession(nctx, a.p.me, nc,
		xmpplib.StartTLS(a.p.tls.Clone()),
		xmpplib.SASL("", string(a.cfg.Password), sasl.ScramSha256, sasl.ScramSha1, sasl.Plain),
		xmpplib.BindResource())
	if err != nil {
		nc.Close()
		return nil, loginError(err)
	}
	return s, nil
}

// loginError marks a refusal of the credentials, which a retry cannot
// mend, with ErrLogin. The library's errors never hold the password.
func loginError(err error) error {
	for e := range errorTree(err) {
		// The library keeps its SASL failure type internal: its name and
		// its condition are all there is to go by.
		if fmt.Sprintf("%T", e) == "saslerr.Error" && e.Error() != "temporary-auth-failure" {
			return fmt.Errorf("%w: %v", ErrLogin, err)
		}
	}
	return err
}

// errorTree yields err and every error it wraps.
func errorTree(err error) func(func(error) bool) {
	return func(yield func(error) bool) {
		var walk func(error) bool
		walk = func(e error) bool {
			if e == nil {
				return true
			}
			if !yield(e) {
				return false
			}
			switch u := e.(type) {
			case interface{ Unwrap() error }:
				return walk(u.Unwrap())
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					if !walk(x) {
						return false
					}
				}
			}
			return true
		}
		walk(err)
	}
}

// joinRooms joins every configured room on c. A room that refuses is
// logged and skipped until the next connection; a taken nick is retried
// with "_" appended.
func (a *Adapter) joinRooms(ctx context.Context, c *conn, log *slog.Logger) {
	for _, r := range a.p.rooms {
		nick := r.nick
		for try := 0; ; try++ {
			jctx, cancel := context.WithTimeout(ctx, joinTimeout)
			err := c.join(jctx, r.addr, nick, a.noHistory)
			cancel()
			var se stanza.Error
			if errors.As(err, &se) && se.Condition == stanza.Conflict && try < 3 {
				nick += "_"
				continue
			}
			if err != nil && ctx.Err() == nil {
				log.Warn("xmpp: could not join a room", "room", r.addr.String(), "nick", nick, "err", err)
			}
			break
		}
	}
}

// keepAlive pings the server every PingInterval on clock (the Host's)
// and drops the stream when a ping goes unanswered for as long, so that a
// dead link is found and the adapter reconnects.
func (a *Adapter) keepAlive(c *conn, clock scope.Clock, log *slog.Logger) {
	for {
		select {
		case <-c.Done():
			return
		case <-clock.After(a.cfg.PingInterval):
		}
		ctx, cancel := c.bound(context.Background())
		go func() {
			select {
			case <-clock.After(a.cfg.PingInterval):
				cancel()
			case <-ctx.Done():
			}
		}()
		wctx, done := whileWriting(ctx)
		err := ping.Send(wctx, c.s, a.p.me.Domain())
		done()
		cancel()
		if err != nil && !c.Ended() {
			log.Warn("xmpp: ping unanswered; dropping the connection", "err", err)
			_ = c.s.Conn().Close()
			return
		}
	}
}

// handle acts on one stanza from the server. It runs on the stream's
// reader with the stream locked, so it never sends through the session.
func (a *Adapter) handle(ctx context.Context, in *adapters.Intake, c *conn, r xmlstream.TokenReadEncoder, start *xml.StartElement, log *slog.Logger) error {
	switch start.Name.Local {
	case "message":
		var m inbound
		raw, err := decode(r, start, &m)
		if err != nil {
			log.Warn("xmpp: message skipped", "err", err)
			return nil
		}
		a.message(ctx, in, c, &m, raw, log)
	case "presence":
		var p presence
		if _, err := decode(r, start, &p); err != nil {
			log.Warn("xmpp: presence skipped", "err", err)
			return nil
		}
		c.presenceDone(&p)
	case "iq":
		return a.iq(r, start)
	}
	return nil
}

// iq answers the server's pings; the library answers any other request
// with service-unavailable.
func (a *Adapter) iq(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	iq, err := stanza.NewIQ(*start)
	if err != nil || iq.Type != stanza.GetIQ {
		return nil
	}
	tok, err := r.Token()
	if se, ok := tok.(xml.StartElement); err == nil && ok && se.Name == (xml.Name{Space: ping.NS, Local: "ping"}) {
		_, err = xmlstream.Copy(r, iq.Result(nil))
		return err
	}
	return nil
}
