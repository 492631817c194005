package xmpp_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	"github.com/switchboard-bots/switchboard/adapters/xmpp"
	"github.com/switchboard-bots/switchboard/adapters/xmpp/xmpptest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// platform is the kit's side: conversation "a" is room a, where a user
// owns the room and the bot sits. XMPP has no acknowledgement, so it is
// no AckPlatform.
type platform struct {
	user  *xmpptest.Client
	proxy *xmpptest.Proxy
	rooms []string

	mu      sync.Mutex
	waitBot bool // the bot has not been seen in its rooms since it (re)connected
}

var (
	_ adaptertest.SayPlatform     = (*platform)(nil)
	_ adaptertest.PushPlatform    = (*platform)(nil)
	_ adaptertest.AddressPlatform = (*platform)(nil)
	_ adaptertest.RefusePlatform  = (*platform)(nil)
	_ adaptertest.DropPlatform    = (*platform)(nil)
)

// botIn waits, once after each (re)connection, until the bot is in every
// room: a room keeps nothing for an occupant who is not there.
func (p *platform) botIn(t testing.TB) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waitBot {
		p.user.Presence("", p.bot()...)
		p.waitBot = false
	}
}

func (p *platform) Say(t testing.TB, conv, text string) {
	p.botIn(t)
	p.user.SayRoom(conv, text)
}

func (p *platform) Reply(t testing.TB) (string, string) {
	for {
		m := p.user.Next()
		room, nick, _ := strings.Cut(m.From, "/")
		if nick == "bot" && m.Body != "" {
			return strings.TrimSuffix(room, "@"+xmpptest.MUC), m.Body
		}
	}
}

func (p *platform) SayBad(t testing.TB) {
	p.botIn(t)
	p.user.Raw(`<message type="groupchat" to="a@rooms.xmpp.test"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)
	p.user.Raw(`<message type="groupchat" to="a@rooms.xmpp.test"><subject>a subject is no message</subject></message>`)
	p.user.Raw(`<message type="headline" to="bot@xmpp.test"><body>a notification</body></message>`)
	p.user.Raw(`<message type="error" to="bot@xmpp.test" id="sb1"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
	p.user.Raw(`<iq type="get" to="bot@xmpp.test" id="q1"><query xmlns="urn:example:unknown"/></iq>`)
}

func (p *platform) SaysChat() {}

func (p *platform) PushEvent(conv, text string) event.Event {
	return xmpp.Send{To: conv + "@" + xmpptest.MUC, Text: text}
}

func (p *platform) Address(conv string) string { return conv + "@" + xmpptest.MUC }

func (p *platform) Refuse(t testing.TB, conv string) {
	p.botIn(t)
	p.user.Mute(conv, "bot")
}

func (p *platform) Drop(t testing.TB) {
	p.proxy.Drop()
	p.mu.Lock()
	p.waitBot = true
	p.mu.Unlock()
	p.user.Presence("unavailable", p.bot()...)
}

// bot returns the bot's occupant JIDs.
func (p *platform) bot() []string {
	var occupants []string
	for _, r := range p.rooms {
		occupants = append(occupants, r+"@"+xmpptest.MUC+"/bot")
	}
	return occupants
}

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
		srv := xmpptest.Start(t)
		rooms := []string{"a", "b", "c", "p"}
		user := srv.Dial(t, "user")
		for _, r := range rooms {
			user.Join(r, "user")
		}
		p := &platform{user: user, proxy: srv.Proxy(t), rooms: rooms, waitBot: true}
		c := botConfig(srv, rooms...)
		c.Server = p.proxy.Addr()
		a, err := xmpp.New("xmpp", c)
		if err != nil {
			t.Fatal(err)
		}
		return adapters.NewHost(a, adapters.WithScopes(cfg)), p
	})
}
