package slack

import (
	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
)

// With a durable intake (adapters.WithJournal), an event taken by one
// process (a Socket Mode connection per process, Events API requests
// behind a load balancer) may be served by another: the event_id drops
// Slack's retries cluster-wide, and DecodeInbound gives the serving
// process the same event types. Slash commands and interactions carry no
// event_id: their retries are not dropped.
var (
	_ adapters.InboundDecoder = (*Adapter)(nil)
	_ adapters.Unique         = Message{}
	_ adapters.Unique         = AppMention{}
	_ adapters.Unique         = ReactionAdded{}
	_ adapters.Unique         = Event{}
)

// UniqueID implements adapters.Unique: the event_id.
func (m Message) UniqueID() string { return m.EventID }

// UniqueID implements adapters.Unique: the event_id.
func (m AppMention) UniqueID() string { return m.EventID }

// UniqueID implements adapters.Unique: the event_id.
func (r ReactionAdded) UniqueID() string { return r.EventID }

// UniqueID implements adapters.Unique: the event_id.
func (e Event) UniqueID() string { return e.EventID }

// DecodeInbound implements adapters.InboundDecoder: it turns an inbound
// event read back from a durable intake into its type.
func (a *Adapter) DecodeInbound(m event.Message) (event.Event, error) {
	switch m.Type() {
	case Message{}.Type():
		return event.Decode[Message](m)
	case AppMention{}.Type():
		return event.Decode[AppMention](m)
	case ReactionAdded{}.Type():
		return event.Decode[ReactionAdded](m)
	case Command{}.Type():
		return event.Decode[Command](m)
	case Interaction{}.Type():
		return event.Decode[Interaction](m)
	case Event{}.Type():
		return event.Decode[Event](m)
	}
	return m, nil
}
