package consumer

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/scope"
)

// ErrUnknownEvent is wrapped by the error a consumer returns for an event
// type it has no handler for.
var ErrUnknownEvent = errors.New("consumer: no handler for event")

// UnknownEventError names the event type a consumer has no handler for.
type UnknownEventError struct {
	Type     string // the event's type name
	Consumer string // the consumer's Go type
}

func (e *UnknownEventError) Error() string {
	return fmt.Sprintf("consumer: %s has no handler for event %q", e.Consumer, e.Type)
}

func (e *UnknownEventError) Unwrap() error { return ErrUnknownEvent }

// Instance is what every consumer type implements by embedding Base (or
// WebSocket, HTTP or Chat, which embed it).
type Instance interface {
	scope.Instance
	base() *Base
}

// Handler is one event handler of consumer type P: the events it takes
// (one event type, or every chat message) and the method that handles
// them. Make it with On, OnMessage, OnJSON or OnRequest. (A scope's
// instance as a whole handles every event of its scope: scope.HandlerFunc
// is that handler; a Handler is the part of it for some events.)
type Handler[P Instance] struct {
	typ    string                 // event type, or "" for a matcher
	match  func(event.Event) bool // for handlers of an interface, such as OnMessage
	call   func(P, context.Context, event.Event) error
	decode func(event.Event) (event.Event, error) // to the handler's type; nil for a matcher
	key    reflect.Type                           // the handler's type: decode's key in a layer.Shared
	chat   bool                                   // takes the chat messages of every chat protocol
}

// On registers fn as the handler of the event type E. Methods make natural
// handlers: On((*Chat).Receive) for
//
//	func (c *Chat) Receive(ctx context.Context, ev websocket.Receive) error
//
// fn receives E whether the event arrives typed from an adapter or as an
// event.Message from a channel layer; the conversion is the consumer's.
// E must be a concrete event type: for every chat protocol's message event
// at once, use OnMessage.
func On[P Instance, E event.Event](fn func(P, context.Context, E) error) Handler[P] {
	if reflect.TypeFor[E]().Kind() == reflect.Interface {
		panic(fmt.Sprintf("consumer.On: %v is an interface; On needs a concrete event type (OnMessage handles chat messages of any protocol)", reflect.TypeFor[E]()))
	}
	var zero E
	return Handler[P]{
		typ: zero.Type(),
		call: func(p P, ctx context.Context, ev event.Event) error {
			e, err := event.Decode[E](ev)
			if err != nil {
				return err
			}
			return fn(p, ctx, e)
		},
		decode: func(ev event.Event) (event.Event, error) { return event.Decode[E](ev) },
		key:    reflect.TypeFor[E](),
	}
}

// App is the application of a consumer type P (what Django Channels'
// as_asgi returns): it makes one instance of P per scope with its
// constructor and dispatches each event to the handler registered for its
// type. Handlers are registered once, for the type, not per instance.
type App[P Instance] struct {
	name     string
	newP     func() P
	byType   map[string]Handler[P]
	matchers []Handler[P]
	chat     bool // an OnMessage handler is registered
	state    stateKind
}

// New returns the application of the consumer type P, whose instances
// newP makes and whose handlers are handlers. It panics if two handlers claim the same event type: a
// wiring mistake is best found the first time the program runs.
func New[P Instance](newP func() P, handlers ...Handler[P]) *App[P] {
	t := &App[P]{
		name:   reflect.TypeFor[P]().String(),
		newP:   newP,
		byType: make(map[string]Handler[P], len(handlers)),
	}
	for _, h := range handlers {
		switch {
		case h.call == nil:
			panic("consumer.New: zero Handler; make handlers with On, OnMessage, OnJSON or OnRequest")
		case h.match != nil:
			t.matchers = append(t.matchers, h)
			t.chat = t.chat || h.chat
		default:
			if _, dup := t.byType[h.typ]; dup {
				panic(fmt.Sprintf("consumer.New: %s registers two handlers for %q", t.name, h.typ))
			}
			t.byType[h.typ] = h
		}
	}
	return t
}

// NewInstance implements scope.Application.
func (t *App[P]) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	p := t.newP()
	b := p.base()
	b.scope, b.conn, b.self, b.disp = s, conn, p, t
	t.state.attach(b, p, s)
	return p, nil
}

// Protocols that carry no chat messages: HTTP exchanges, and the scopes of
// workers serving a named layer channel, whose events are whatever was
// sent to the channel.
const (
	protocolHTTP    = "http"
	protocolChannel = "channel"
)

// HandlesProtocol reports whether t's instances have anything to handle in
// a scope of protocol (a Scope.Type), so that a server can refuse, before
// it starts, a route that sends a protocol to a consumer with no handler
// for it. It reports true when
//   - a handler is registered for an event type of the protocol (its name
//     is "<protocol>.<event>");
//   - the type's base gives the protocol's events a meaning of its own:
//     WebSocket and Chat accept "websocket" connections;
//   - an OnMessage handler is registered and the protocol carries chat
//     messages: every protocol but "http" and "channel", since adapters
//     are added without the consumer knowing them;
//   - the protocol is "channel" (a worker's scope, which gets whatever is
//     sent to its channel) and any handler of an event type is registered.
//
// The answer errs on the side of yes: a false yes leaves the mistake to
// the first event, where it fails with an UnknownEventError naming the
// event type, while a false no would refuse a working route.
func (t *App[P]) HandlesProtocol(protocol string) bool {
	if protocol == protocolChannel && len(t.byType) > 0 {
		return true
	}
	for typ := range t.byType {
		if p, _, ok := strings.Cut(typ, "."); ok && p == protocol {
			return true
		}
	}
	if _, ok := any(*new(P)).(defaulter); ok && protocol == wsProtocol {
		return true
	}
	return t.chat && protocol != protocolHTTP && protocol != protocolChannel
}

// dispatcher is the non-generic face of App that Base calls.
type dispatcher interface {
	dispatch(ctx context.Context, self Instance, ev event.Event) error
	accept(sh *layer.Shared) (event.Event, error)
}

func (t *App[P]) dispatch(ctx context.Context, self Instance, ev event.Event) error {
	p := self.(P)
	typ := ev.Type()
	if h, ok := t.byType[typ]; ok {
		return h.call(p, ctx, ev)
	}
	for _, h := range t.matchers {
		if h.match(ev) {
			return h.call(p, ctx, ev)
		}
	}
	if d, ok := self.(defaulter); ok {
		if handled, err := d.defaultHandle(ctx, ev); handled {
			return err
		}
	}
	if _, ok := ev.(scope.Final); ok {
		return nil // a consumer need not care how its scope ends
	}
	return &UnknownEventError{Type: typ, Consumer: t.name}
}

// defaulter is implemented by the ready-made consumers that give some
// events a default meaning (WebSocket and Chat accept connections unless
// told otherwise). Every default so far is for "websocket" events, which
// HandlesProtocol relies on.
type defaulter interface {
	defaultHandle(ctx context.Context, ev event.Event) (handled bool, err error)
}
