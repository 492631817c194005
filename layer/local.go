package layer

import (
	"github.com/switchboard-bots/switchboard/event"
)

// Delivering to process-local channels without a receiver each.
//
// A process whose consumers each own a process-local channel would
// otherwise run a goroutine per channel, blocked in Receive, and decode a
// group message once per member. A backend that implements Subscriber
// delivers the messages of subscribed channels itself, from one receiver
// for the whole process (the Redis layer's receive loop of the process's
// key) or from the sender's goroutine (the in-memory layer), and hands the
// members of one group message the same Shared, so that the message is
// decoded into a handler's type once per process.

// Subscriber is implemented by layers that can deliver the messages of a
// process-local channel to a function rather than keep them for Receive.
type Subscriber interface {
	// Subscribe makes deliver the receiver of channel, a process-local
	// channel this layer made with NewChannel: messages already queued
	// on it, then every message sent to it, reach deliver in the order
	// sent, until cancel is called. After cancel returns, deliver is not
	// called again and later messages are kept for Receive as before.
	//
	// deliver runs on the layer's own receiver or on a sender's
	// goroutine, one call at a time per channel, and must not block or
	// call the layer: it hands the message on (a scope's TryPost) and
	// returns. A channel has at most one subscriber; Receive on a
	// subscribed channel waits for messages that deliver does not take,
	// which is none.
	Subscribe(channel string, deliver func(*Shared)) (cancel func(), err error)
}

// Unwrapper is implemented by middleware (see Middleware) that can give
// the layer it wraps, so that a backend's optional capabilities, such as
// Subscriber, are found below it.
type Unwrapper interface {
	Unwrap() Layer
}

// SubscriberOf returns the Subscriber that l is or wraps (through
// Unwrapper), or nil.
func SubscriberOf(l any) Subscriber {
	for l != nil {
		if s, ok := l.(Subscriber); ok {
			return s
		}
		u, ok := l.(Unwrapper)
		if !ok {
			return nil
		}
		l = u.Unwrap()
	}
	return nil
}

// Shared is one message on its way to the subscribed channels of one
// process. Each subscriber gets the same event; a conversion that one of
// them makes with Convert is reused by the next, so that a message
// reaching a thousand members of a group is decoded into a handler's type
// once. Like every event, the results are shared values that handlers
// must not modify.
//
// A layer delivers a Shared to one channel at a time, so its methods are
// not safe for concurrent use.
type Shared struct {
	ev   event.Event
	conv []conversion // few: one per Go type the process's handlers want
}

type conversion struct {
	key any
	ev  event.Event
	err error
}

// NewShared returns ev, ready to be delivered to subscribers.
func NewShared(ev event.Event) *Shared { return &Shared{ev: ev} }

// Event returns the message as it was received.
func (s *Shared) Event() event.Event { return s.ev }

// Convert returns convert(s.Event()), calling convert only the first time
// it is asked for key: the key names the conversion, such as the Go type
// it decodes into.
func (s *Shared) Convert(key any, convert func(event.Event) (event.Event, error)) (event.Event, error) {
	for i := range s.conv {
		if s.conv[i].key == key {
			return s.conv[i].ev, s.conv[i].err
		}
	}
	ev, err := convert(s.ev)
	s.conv = append(s.conv, conversion{key: key, ev: ev, err: err})
	return ev, err
}
