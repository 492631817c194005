package matrix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	mevent "maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// encryptedNotice is what the bot says in a room that turns end-to-end
// encryption on: it cannot read what is said there from then on.
const encryptedNotice = "This room is end-to-end encrypted, and this bot does not support encryption: " +
	"it cannot read the messages here and will not answer them. Invite it to an unencrypted room instead."

// invited joins a room the bot was invited to, if auto_join is on.
func (s *syncer) invited(ctx context.Context, room id.RoomID, state []parsed) {
	a := s.a
	encrypted := false
	for _, ev := range state {
		if ev.Type.Type == mevent.StateEncryption.Type {
			encrypted = true
		}
	}
	if !*a.cfg.AutoJoin {
		s.log.Info("matrix: invited; not joining (auto_join is off)", "room", room)
		return
	}
	if err := a.join(ctx, room); err != nil {
		s.log.Warn("matrix: could not join a room the bot was invited to", "room", room, "err", err)
		return
	}
	s.log.Info("matrix: joined on invite", "room", room)
	if encrypted {
		s.refuseEncrypted(ctx, room)
	}
}

// join joins room.
func (a *Adapter) join(ctx context.Context, room id.RoomID) error {
	return a.call(ctx, "join", func(ctx context.Context) error {
		_, err := a.cli.JoinRoom(ctx, string(room), nil)
		return err
	})
}

// state acts on a state event of a joined room: encryption turned on is
// refused clearly.
func (s *syncer) state(ctx context.Context, room id.RoomID, ev *mevent.Event) {
	if ev.Type.Type == mevent.StateEncryption.Type {
		s.refuseEncrypted(ctx, room)
	}
}

// refuseEncrypted logs that room is encrypted and says so in it, once per
// room and process: the bot cannot read its messages, and a silent bot
// would look broken.
func (s *syncer) refuseEncrypted(ctx context.Context, room id.RoomID) {
	s.mu.Lock()
	told := s.refusing[room]
	s.refusing[room] = true
	s.mu.Unlock()
	if told {
		return
	}
	s.log.Warn("matrix: room is end-to-end encrypted, which is not supported: its messages will not be handled", "room", room)
	if _, err := s.a.post(ctx, string(room), content(Send{Text: encryptedNotice, Notice: true})); err != nil {
		s.log.Warn("matrix: could not post the encryption notice", "room", room, "err", err)
	}
}

// messageContent is the part of an m.room.message's content the adapter
// reads.
type messageContent struct {
	MsgType   string `json:"msgtype"`
	Body      string `json:"body"`
	RelatesTo *struct {
		RelType string `json:"rel_type"`
		EventID string `json:"event_id"`
	} `json:"m.relates_to"`
}

// decodeMessage makes a Message of an m.room.message event, whose JSON is
// raw.
func decodeMessage(room id.RoomID, ev *mevent.Event, raw json.RawMessage) (Message, error) {
	var c messageContent
	if err := json.Unmarshal(ev.Content.VeryRaw, &c); err != nil {
		return Message{}, fmt.Errorf("content: %w", err)
	}
	if c.MsgType == "" {
		return Message{}, errors.New("content has no msgtype")
	}
	m := Message{RoomID: string(room), EventID: string(ev.ID), Sender: string(ev.Sender), MsgType: c.MsgType, Body: c.Body,
		Raw: bytes.Clone(raw)} // not a slice of the whole answer, which it would keep alive
	if c.RelatesTo != nil && c.RelatesTo.RelType == "m.thread" {
		m.Thread = c.RelatesTo.EventID
	}
	return m, nil
}
