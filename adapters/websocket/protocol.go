package websocket

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/switchboard-bots/switchboard/event"
	httpev "github.com/switchboard-bots/switchboard/event/http"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/router"
	"github.com/switchboard-bots/switchboard/scope"
)

// Send implements scope.Protocol: websocket.accept, websocket.send,
// websocket.close and *Broadcast for WebSocket scopes;
// http.response.start and http.response.body for HTTP scopes. Events from
// a channel layer of another process (event.Message) are decoded first.
//
// A WebSocket send queues the message and returns. Only while the
// connection's queue is full does it wait, for SendTimeout at most; then
// the client is disconnected and Send fails with ErrSlowClient.
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	switch st := s.Value(stateKey{}).(type) {
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
			m.kind, m.text = outText, ev.Text
		}
		return c.enqueue(ctx, &m)
	case *Broadcast:
		pm, err := ev.prepared()
		if err != nil {
			return err
		}
		m.kind, m.pm = outPrepared, pm
		return c.enqueue(ctx, &m)
	case websocket.Accept:
		return c.accept(ev)
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
	}
	return nil, fmt.Errorf("%w %q on a websocket scope", ErrUnsupportedEvent, m.Type())
}

// Disconnect implements scope.Protocol.
func (a *Adapter) Disconnect(s *scope.Scope, r scope.Reason) scope.Final {
	if s.Type == TypeHTTP {
		return httpev.Disconnect{Reason: r}
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

// Ended implements scope.EndNotifier: a scope the manager ended (shutdown,
// a failed or refusing application) closes its connection or answers its
// request, if that has not happened yet.
func (a *Adapter) Ended(s *scope.Scope, r scope.Reason, err error) {
	switch st := s.Value(stateKey{}).(type) {
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
		case errors.Is(err, router.ErrNoRoute):
			status = http.StatusNotFound
		case err != nil:
			status = http.StatusForbidden
		}
		st.abort(status)
	}
}

// claimer is the per-request state of either kind.
type claimer interface{ claim() bool }

// wrap makes app serve each connection and request with one instance only.
// After an instance fails, the scope manager would serve the events still
// arriving with a new instance; a connection has one life, so those get an
// instance that discards them while the connection closes with 1011.
// HTTP instances are wrapped so that the next body chunk is read only once
// the previous one was handled.
func (a *Adapter) wrap(app scope.Application) scope.Application {
	return scope.ApplicationFunc(func(ctx context.Context, s *scope.Scope, c scope.Conn) (scope.Instance, error) {
		st, _ := s.Value(stateKey{}).(claimer)
		if st != nil && !st.claim() {
			return discard, nil
		}
		inst, err := app.NewInstance(ctx, s, c)
		if err != nil || inst == nil {
			return inst, err
		}
		if ex, ok := st.(*exchange); ok {
			return &pacedInstance{Instance: inst, ex: ex}, nil
		}
		return inst, nil
	})
}

var discard = scope.HandlerFunc(func(context.Context, event.Event) error { return nil })

// pacedInstance tells the request's goroutine when a body chunk was
// handled, so that it reads the next one: the body flows at the pace of
// the consumer and at most one chunk waits in memory.
type pacedInstance struct {
	scope.Instance
	ex *exchange
}

func (p *pacedInstance) Handle(ctx context.Context, ev event.Event) error {
	err := p.Instance.Handle(ctx, ev)
	if ev.Type() == (httpev.Request{}).Type() {
		p.ex.handled()
	}
	return err
}
