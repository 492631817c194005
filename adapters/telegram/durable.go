package telegram

import (
	"strconv"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
)

// With a durable intake (adapters.WithJournal), an update taken by one
// process may be served by another: the update_id drops Telegram's
// retries cluster-wide, and DecodeInbound gives the serving process the
// same event types.
var (
	_ adapters.InboundDecoder    = (*Adapter)(nil)
	_ adapters.InboundRawDecoder = (*Adapter)(nil)
	_ adapters.Unique            = Message{}
	_ adapters.Unique            = EditedMessage{}
	_ adapters.Unique            = CallbackQuery{}
	_ adapters.Unique            = Update{}
)

// UniqueID implements adapters.Unique: the update_id.
func (m Message) UniqueID() string { return strconv.FormatInt(m.UpdateID, 10) }

// UniqueID implements adapters.Unique: the update_id.
func (m EditedMessage) UniqueID() string { return strconv.FormatInt(m.UpdateID, 10) }

// UniqueID implements adapters.Unique: the update_id.
func (q CallbackQuery) UniqueID() string { return strconv.FormatInt(q.UpdateID, 10) }

// UniqueID implements adapters.Unique: the update_id.
func (u Update) UniqueID() string { return strconv.FormatInt(u.UpdateID, 10) }

// DecodeInbound implements adapters.InboundDecoder: it turns an inbound
// event read back from a durable intake into its type.
func (a *Adapter) DecodeInbound(m event.Message) (event.Event, error) {
	switch m.Type() {
	case TypeMessage:
		return event.Decode[Message](m)
	case TypeEditedMessage:
		return event.Decode[EditedMessage](m)
	case TypeCallbackQuery:
		return event.Decode[CallbackQuery](m)
	case TypeUpdate:
		return event.Decode[Update](m)
	}
	return m, nil
}

// DecodeInboundRaw implements adapters.InboundRawDecoder: the same types
// as DecodeInbound, read from their encoded form in one pass.
func (a *Adapter) DecodeInboundRaw(typ string, data []byte) (event.Event, bool, error) {
	var ev event.Event
	var err error
	switch typ {
	case TypeMessage:
		ev, err = event.UnmarshalAs[Message](data)
	case TypeEditedMessage:
		ev, err = event.UnmarshalAs[EditedMessage](data)
	case TypeCallbackQuery:
		ev, err = event.UnmarshalAs[CallbackQuery](data)
	case TypeUpdate:
		ev, err = event.UnmarshalAs[Update](data)
	default:
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	return ev, true, nil
}
