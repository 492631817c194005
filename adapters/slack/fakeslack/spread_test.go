package fakeslack_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
)

// client is a Socket Mode connection read by the test.
type client struct {
	c      *websocket.Conn
	frames chan map[string]any
}

func dial(t *testing.T, s *fakeslack.Server) *client {
	t.Helper()
	url := "ws" + strings.TrimPrefix(strings.TrimSuffix(s.APIURL, "/api/"), "http") + "/socket"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := &client{c: c, frames: make(chan map[string]any, 100)}
	go func() {
		defer close(cl.frames)
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			var f map[string]any
			if json.Unmarshal(data, &f) == nil && f["envelope_id"] != nil {
				cl.frames <- f
			}
		}
	}()
	t.Cleanup(func() {
		_ = c.Close()
		for range cl.frames { // the reader's end
		}
	})
	return cl
}

// next returns the envelope id of the next envelope the client gets.
func (cl *client) next(t *testing.T) string {
	t.Helper()
	select {
	case f := <-cl.frames:
		return f["envelope_id"].(string)
	case <-time.After(fakeslack.Timeout):
		t.Fatal("no envelope came")
		return ""
	}
}

func (cl *client) ack(t *testing.T, id string) {
	t.Helper()
	if err := cl.c.WriteJSON(map[string]string{"envelope_id": id}); err != nil {
		t.Fatal(err)
	}
}

// With Spread, envelopes go to the open connections in turn, and what a
// connection that ended left unacknowledged goes to the others, not to
// a newcomer.
func TestSpreadRoundRobin(t *testing.T) {
	s := fakeslack.New(t, fakeslack.Options{Spread: true})
	cls := []*client{dial(t, s), dial(t, s), dial(t, s)}
	s.WaitConnects(t, 3)
	var ids []string
	for range 6 {
		id, _ := s.PushEvent(s.Message("C1", "U1", "hi"))
		ids = append(ids, id)
	}
	// The fake takes connections in the order their handshakes end, which
	// need not be the order of the dials: what makes the turn is that each
	// connection gets every third envelope.
	turn := make([]*client, 3)
	for _, cl := range cls {
		first, second := cl.next(t), cl.next(t)
		k := slices.Index(ids, first)
		if k < 0 || k > 2 || turn[k] != nil || second != ids[k+3] {
			t.Fatalf("a connection got %s then %s; want envelopes k and k+3 of %v, each k in 0..2 once", first, second, ids)
		}
		turn[k] = cl
	}
	cls = turn
	for i, id := range ids {
		if i%3 != 1 {
			cls[i%3].ack(t, id)
		}
	}
	s.WaitAcked(t, ids[0], ids[2], ids[3], ids[5])
	// Connection 1 ends with two envelopes unacknowledged: they go, as
	// retries, to the two others in turn.
	_ = cls[1].c.Close()
	got := map[string]bool{}
	for _, cl := range []*client{cls[0], cls[2]} {
		id := cl.next(t)
		got[id] = true
		cl.ack(t, id)
	}
	if !got[ids[1]] || !got[ids[4]] {
		t.Fatalf("after connection 1 ended the others got %v, want %s and %s", got, ids[1], ids[4])
	}
	s.WaitAcked(t, ids...)
	if s.Sends(ids[1]) != 2 || s.Sends(ids[0]) != 1 {
		t.Errorf("sends: %d and %d, want 2 (a retry) and 1", s.Sends(ids[1]), s.Sends(ids[0]))
	}
	// A newcomer gets none of the envelopes others hold or acknowledged.
	late := dial(t, s)
	s.WaitConnects(t, 4)
	id, _ := s.PushEvent(s.Message("C1", "U1", "later"))
	var on *client
	for _, cl := range []*client{cls[0], cls[2], late} {
		select {
		case f := <-cl.frames:
			if f["envelope_id"] != id {
				t.Fatalf("a connection got %v, want only %s", f["envelope_id"], id)
			}
			on = cl
		case <-time.After(200 * time.Millisecond): // the envelope went to another
		}
	}
	if on == nil {
		t.Fatal("the new envelope went nowhere")
	}
}
