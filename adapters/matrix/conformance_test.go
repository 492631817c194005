package matrix_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	"github.com/switchboard-bots/switchboard/adapters/matrix"
	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// platform is the kit's view of the fake homeserver: conversation "a" is
// the room !a:example.org, which the bot has joined. It implements every
// capability of the kit: the adapter sends chat.say, pushes matrix.send
// with a room_id, gets M_FORBIDDEN from a room that refuses it, stores a
// message as done only once handled, and syncs again after a dropped
// connection.
type platform struct {
	srv   *matrixtest.Server
	store *matrix.MemoryStore

	mu   sync.Mutex
	n    int                 // sends already returned by Reply
	said map[string][]string // conversation → event ids said there
}

var (
	_ adaptertest.SayPlatform     = (*platform)(nil)
	_ adaptertest.PushPlatform    = (*platform)(nil)
	_ adaptertest.AddressPlatform = (*platform)(nil)
	_ adaptertest.RefusePlatform  = (*platform)(nil)
	_ adaptertest.AckPlatform     = (*platform)(nil)
	_ adaptertest.DropPlatform    = (*platform)(nil)
)

func newPlatform(t testing.TB) *platform {
	p := &platform{srv: matrixtest.New(t), store: &matrix.MemoryStore{}, said: map[string][]string{}}
	for _, c := range []string{"a", "b", "c", "p", "bad"} {
		p.srv.Joined(roomOf(c))
	}
	return p
}

func (p *platform) Say(_ testing.TB, conv, text string) {
	id := p.srv.Say(roomOf(conv), user, text)
	p.mu.Lock()
	p.said[conv] = append(p.said[conv], id)
	p.mu.Unlock()
}

func (p *platform) Reply(t testing.TB) (string, string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	sent, err := p.srv.AwaitSent(p.n+1, adaptertest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	s := sent[p.n]
	p.n++
	return strings.TrimSuffix(strings.TrimPrefix(s.Room, "!"), ":example.org"), s.Body()
}

// SayBad posts messages the adapter cannot read: a body that is not a
// string, a content without a msgtype, a content that is not an object
// (which fails the event's decoding, not the sync's), and an event
// without a type.
func (p *platform) SayBad(testing.TB) {
	p.srv.Post(roomOf("bad"), user, "m.room.message", map[string]any{"msgtype": "m.text", "body": 42})
	p.srv.Post(roomOf("bad"), user, "m.room.message", map[string]any{"body": "no msgtype"})
	p.srv.Post(roomOf("bad"), user, "m.room.message", "not an object")
	p.srv.Post(roomOf("bad"), user, "", map[string]any{"msgtype": "m.text", "body": "no type"})
}

func (p *platform) SaysChat() {}

func (p *platform) PushEvent(conv, text string) event.Event {
	return matrix.Send{RoomID: roomOf(conv), Text: text}
}

func (p *platform) Address(conv string) string { return roomOf(conv) }

// Refuse makes the homeserver answer every send to conv's room with 403
// M_FORBIDDEN.
func (p *platform) Refuse(_ testing.TB, conv string) { p.srv.Refuse(roomOf(conv)) }

// Acked counts conv's messages the adapter stored as done: before the
// stored sync position, or listed as handled after it.
func (p *platform) Acked(t testing.TB, conv string) int {
	st, err := p.store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := matrixtest.Position(st.NextBatch)
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, id := range p.said[conv] {
		if at := p.srv.EventPosition(id); at <= pos || slices.Contains(st.Handled, id) {
			n++
		}
	}
	return n
}

// Drop breaks the sync in flight and every other connection.
func (p *platform) Drop(t testing.TB) {
	t.Helper()
	if err := p.srv.AwaitSync(adaptertest.Timeout); err != nil {
		t.Fatal(err)
	}
	p.srv.Drop()
}

func harness(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
	p := newPlatform(t)
	a := newAdapter(t, testConfig(p.srv), nil, matrix.WithStore(p.store))
	return adapters.NewHost(a, adapters.WithScopes(cfg)), p
}

func TestConformance(t *testing.T) { adaptertest.Run(t, harness) }
