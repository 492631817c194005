package consumer

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/switchboard-bots/switchboard/event"
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

// Handler is one registered event handler of consumer type P; make it with
// On, OnMessage, OnJSON or OnRequest.
type Handler[P Instance] struct {
	typ   string                 // event type, or "" for a matcher
	match func(event.Event) bool // for handlers of an interface, such as OnMessage
	call  func(P, context.Context, event.Event) error
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
	}
}

// Type is a consumer type: an Application that makes one instance of P per
// scope with its constructor and dispatches each event to the handler
// registered for its type. Handlers are registered once, for the type, not
// per instance.
type Type[P Instance] struct {
	name     string
	newP     func() P
	byType   map[string]Handler[P]
	matchers []Handler[P]
}

// New returns a consumer type whose instances newP makes and whose handlers
// are handlers. It panics if two handlers claim the same event type: a
// wiring mistake is best found the first time the program runs.
func New[P Instance](newP func() P, handlers ...Handler[P]) *Type[P] {
	t := &Type[P]{
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
func (t *Type[P]) NewInstance(ctx context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	p := t.newP()
	b := p.base()
	b.scope, b.conn, b.self, b.disp = s, conn, p, t
	return p, nil
}

// dispatcher is the non-generic face of Type that Base calls.
type dispatcher interface {
	dispatch(ctx context.Context, self Instance, ev event.Event) error
}

func (t *Type[P]) dispatch(ctx context.Context, self Instance, ev event.Event) error {
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
// events a default meaning (a WebSocket consumer accepts connections unless
// told otherwise).
type defaulter interface {
	defaultHandle(ctx context.Context, ev event.Event) (handled bool, err error)
}
