package layer

import (
	"sync"

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

// Claimer is implemented by layers whose process can receive process-local
// channels it did not make: every channel whose name starts with one
// prefix and a "!", such as the conversation channels of a partition this
// process serves (see consumer.Conversations). On a multi-process backend
// the part before the "!" routes a message to its receiver, so a prefix
// names one receiver at a time: whoever claims it.
type Claimer interface {
	// Claim makes deliver the receiver of every channel named prefix,
	// "!" and a name: messages already waiting for those channels, then
	// every message sent to one, reach deliver with the channel's full
	// name, in the order sent, until cancel is called. prefix follows the
	// group name rules. After cancel returns deliver is not called again,
	// and later messages wait in the layer for the next claim of prefix
	// (on Redis: in its key, for whichever process claims it next).
	//
	// deliver runs on the layer's own receiver or on a sender's
	// goroutine, one call at a time per prefix, and must not block or
	// call the layer; the Shared it gets may be handed to several
	// channels' receivers at once. A prefix has at most one claim per
	// layer; channels of a claimed prefix take no subscribers.
	Claim(prefix string, deliver func(channel string, sh *Shared)) (cancel func(), err error)
}

// ClaimerOf returns the Claimer that l is or wraps (through Unwrapper), or
// nil.
func ClaimerOf(l any) Claimer {
	for l != nil {
		if c, ok := l.(Claimer); ok {
			return c
		}
		u, ok := l.(Unwrapper)
		if !ok {
			return nil
		}
		l = u.Unwrap()
	}
	return nil
}

// Received is a message of a layer channel that a process-level receiver
// (a Claimer's) handed into a scope's inbox, rather than the channel's own
// subscriber: consumers take it as they take any message of their
// channel, decoded into their handler's type, and drop what they cannot
// handle.
type Received struct {
	// Channel is the channel the message was sent to.
	Channel string
	// Message is the message, shared with the channel's other receivers.
	Message *Shared
}

// Type returns the message's type.
func (r Received) Type() string { return r.Message.Event().Type() }

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
// Its methods are safe for concurrent use: a message that a Claimer
// hands to several scopes' inboxes is converted on their goroutines.
type Shared struct {
	ev   event.Event
	mu   sync.Mutex
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
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.conv {
		if s.conv[i].key == key {
			return s.conv[i].ev, s.conv[i].err
		}
	}
	ev, err := convert(s.ev)
	s.conv = append(s.conv, conversion{key: key, ev: ev, err: err})
	return ev, err
}
