package matrix

import (
	"context"
	"errors"
	"fmt"

	"maunium.net/go/mautrix"
	mevent "maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// target is where a scope's answers go: the adapter's value of the scope.
type target struct {
	room, thread string
}

// sendMethod names the send call in refusals.
const sendMethod = "send/m.room.message"

// Send implements adapters.Adapter: matrix.send, and chat.say to the
// scope's room (and thread, when threads are conversations). A send the
// homeserver refuses (M_FORBIDDEN: the bot is not in the room or may not
// post; M_NOT_FOUND; a rate limit or server error that outlasted
// retry.max_attempts) returns an *adapters.RefusedError whose Code is the
// errcode; the conversation goes on.
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	send, ok, err := outbound(ev)
	if !ok {
		return fmt.Errorf("matrix: cannot send %q: %w", ev.Type(), adapters.ErrUnsupported)
	}
	if err != nil {
		return err
	}
	if send.RoomID == "" {
		own, _ := adapters.Value[target](s)
		send.RoomID, send.Thread = own.room, own.thread
	}
	return a.send(ctx, send)
}

// Push implements adapters.Pusher: a matrix.send naming its room, or a
// chat.say naming it in To.
func (a *Adapter) Push(ctx context.Context, ev event.Event) error {
	send, ok, err := outbound(ev)
	if !ok {
		return &event.TypeError{Type: ev.Type(), Want: Send{}.Type()}
	}
	if err != nil {
		return err
	}
	if send.RoomID == "" {
		return errors.New("matrix: a pushed matrix.send needs a room_id")
	}
	return a.send(ctx, send)
}

// outbound returns ev, a chat.say (its To the room) or a matrix.send, as
// a Send, and whether it is either.
func outbound(ev event.Event) (Send, bool, error) {
	if say, ok, err := event.AsSay(ev); ok {
		return Send{RoomID: say.To, Text: say.Text}, true, err
	}
	if ev.Type() != (Send{}).Type() {
		return Send{}, false, nil
	}
	send, err := event.Decode[Send](ev)
	return send, true, err
}

func (a *Adapter) send(ctx context.Context, s Send) error {
	if s.RoomID == "" {
		return errors.New("matrix: matrix.send without a room")
	}
	_, err := a.post(ctx, s.RoomID, content(s))
	return err
}

// content is the m.room.message content of s.
func content(s Send) map[string]any {
	c := map[string]any{"msgtype": "m.text", "body": s.Text}
	if s.Notice {
		c["msgtype"] = "m.notice"
	}
	switch {
	case s.Thread != "":
		rel := map[string]any{"rel_type": "m.thread", "event_id": s.Thread}
		if s.ReplyTo != "" {
			rel["m.in_reply_to"] = map[string]any{"event_id": s.ReplyTo}
		} else {
			// Clients without threads show it as a reply to the root.
			rel["is_falling_back"] = true
			rel["m.in_reply_to"] = map[string]any{"event_id": s.Thread}
		}
		c["m.relates_to"] = rel
	case s.ReplyTo != "":
		c["m.relates_to"] = map[string]any{"m.in_reply_to": map[string]any{"event_id": s.ReplyTo}}
	}
	return c
}

// post sends an m.room.message with one transaction id for every
// attempt, so that an attempt whose answer was lost and is made again
// posts nothing twice.
func (a *Adapter) post(ctx context.Context, room string, c map[string]any) (id.EventID, error) {
	txn := a.txnID()
	var eventID id.EventID
	err := a.call(ctx, sendMethod, func(ctx context.Context) error {
		resp, err := a.cli.SendMessageEvent(ctx, id.RoomID(room), mevent.EventMessage, c, mautrix.ReqSendEvent{TransactionID: txn})
		if err == nil {
			eventID = resp.EventID
		}
		return err
	})
	if err != nil {
		a.log.Warn("matrix: send failed", "room", room, "txn", txn, "err", err)
	}
	return eventID, err
}
