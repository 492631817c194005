package websocket

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchboard-bots/switchboard/event"
	httpev "github.com/switchboard-bots/switchboard/event/http"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// Send implements adapters.Adapter: websocket.accept, websocket.send,
// websocket.close, *Broadcast, chat.say (a text message) and chat.ask (a
// choice frame, or numbered lines; see ChatSubprotocol) for WebSocket
// scopes;
// http.response.start and http.response.body for HTTP scopes. Events from
// a channel layer of another process (event.Message) are decoded first.
//
// A WebSocket send queues the message and returns. Only while the
// connection's queue is full does it wait, for SendTimeout at most; then
// the client is disconnected and Send fails with ErrSlowClient.
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	switch st := s.AdapterValue().(type) {
	case *conn:
		return st.send(ctx, ev)
	case *exchange:
		return st.send(ev)
	}
	return fmt.Errorf("%w: %s", ErrForeignScope, s)
}

func (c *conn) send(ctx context.Context, ev event.Event) error {
	if m, ok := ev.(event.Message); ok {
		var err error
		if ev, err = decodeWebSocket(m); err != nil {
			return err
		}
	}
	var m outMsg
	switch ev := ev.(type) {
	case websocket.Send:
		if ev.Bytes != nil {
			m.kind, m.data = outBinary, ev.Bytes
		} else {
			if c.chat.Load() != nil {
				return c.sayText(ctx, ev.Text)
			}
			m.kind, m.text = outText, ev.Text
		}
		return c.enqueue(ctx, &m)
	case event.Say:
		if c.chat.Load() != nil {
			return c.sayText(ctx, ev.Text)
		}
		m.kind, m.text = outText, ev.Text
		return c.enqueue(ctx, &m)
	case event.Ask:
		return c.sendAsk(ctx, ev)
	case *Broadcast:
		pm, err := ev.prepared()
		if err != nil {
			return err
		}
		m.kind, m.pm = outPrepared, pm
		return c.enqueue(ctx, &m)
	case websocket.Accept:
		return c.accept(c.acceptChat(ev))
	case websocket.Close:
		return c.close(ev.Code, ev.Reason)
	}
	return fmt.Errorf("%w %q on a websocket scope", ErrUnsupportedEvent, ev.Type())
}

func decodeWebSocket(m event.Message) (event.Event, error) {
	switch m.Type() {
	case websocket.Send{}.Type():
		return event.Decode[websocket.Send](m)
	case websocket.Accept{}.Type():
		return event.Decode[websocket.Accept](m)
	case websocket.Close{}.Type():
		return event.Decode[websocket.Close](m)
	case (*Broadcast)(nil).Type():
		return event.Decode[*Broadcast](m)
	case event.Say{}.Type():
		return event.Decode[event.Say](m)
	case event.Ask{}.Type():
		return event.Decode[event.Ask](m)
	}
	return nil, fmt.Errorf("%w %q on a websocket scope", ErrUnsupportedEvent, m.Type())
}

// Disconnect implements adapters.Disconnecter. A connection has one
// life: once its scope failed (r is scope.ReasonError), the read loop
// delivers nothing more while the scope's end closes it with 1011.
func (a *Adapter) Disconnect(s *scope.Scope, r scope.Reason) scope.Final {
	if s.Type == TypeHTTP {
		return httpev.Disconnect{Reason: r}
	}
	if c, ok := s.AdapterValue().(*conn); ok && r == scope.ReasonError {
		c.closing.Store(true)
	}
	return websocket.Disconnect{Code: closeCodeFor(r), Reason: r}
}

// closeCodeFor is the close code the server sends when a scope ends for r.
func closeCodeFor(r scope.Reason) int {
	switch r {
	case scope.ReasonShutdown:
		return websocket.CloseGoingAway
	case scope.ReasonError:
		return websocket.CloseInternalError
	case scope.ReasonEvicted:
		return websocket.CloseTryAgainLater
	}
	return websocket.CloseNormal
}

// Ended implements adapters.Ender: a scope that ended (shutdown, a failed
// or refusing application) closes its connection or answers its request,
// if that has not happened yet.
func (a *Adapter) Ended(s *scope.Scope, r scope.Reason, err error) {
	switch st := s.AdapterValue().(type) {
	case *conn:
		status := http.StatusForbidden
		if r == scope.ReasonShutdown {
			status = http.StatusServiceUnavailable
		}
		st.mu.Lock()
		st.closeLocked(closeCodeFor(r), string(r), status)
		st.mu.Unlock()
	case *exchange:
		status := http.StatusInternalServerError
		switch {
		case r == scope.ReasonShutdown:
			status = http.StatusServiceUnavailable
		case noRoute(err):
			status = http.StatusNotFound
		case err != nil:
			status = http.StatusForbidden
		}
		st.abort(status)
	}
}

// noRoute reports whether err says that no route matched the scope.
//
// TODO: errors.Is(err, event.ErrNoRoute) once that sentinel lives in
// package event; until then the router's error is known by its text, so
// that this adapter does not import the router.
func noRoute(err error) bool {
	return err != nil && strings.Contains(err.Error(), "router: no route")
}
