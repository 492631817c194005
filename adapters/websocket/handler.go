package websocket

import (
	"context"
	"fmt"
	"net/http"

	"github.com/switchboard-bots/switchboard/event"
	httpev "github.com/switchboard-bots/switchboard/event/http"
	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// Handler returns an application that serves its scopes with h, as it is:
// h gets the original ResponseWriter and Request, body and all, so
// existing Go HTTP code (a REST API, a file server, another WebSocket
// library's handler) runs beside consumers, routed by the same routers.
//
// h sees the full request path: a path router's Mount does not strip its
// prefix from the Request (wrap h in http.StripPrefix for that). h runs on
// the scope's worker, one request per scope, and a graceful shutdown waits
// for it to return. The scopes must come from this package's adapter.
func Handler(h http.Handler) scope.Application {
	return scope.ApplicationFunc(func(_ context.Context, s *scope.Scope, _ scope.Conn) (scope.Instance, error) {
		switch st := s.AdapterValue().(type) {
		case *exchange:
			return &handlerInstance{h: h, ex: st}, nil
		case *conn:
			return &handlerInstance{h: h, c: st}, nil
		}
		return nil, fmt.Errorf("%w: %s", ErrForeignScope, s)
	})
}

type handlerInstance struct {
	h  http.Handler
	ex *exchange
	c  *conn
}

func (hi *handlerInstance) Handle(_ context.Context, ev event.Event) error {
	switch ev := ev.(type) {
	case httpev.Request:
		if hi.ex == nil {
			return nil
		}
		w, r, ok := hi.ex.takeOver(ev.Body, ev.MoreBody)
		if !ok {
			return nil // a later chunk: the handler has read the body itself
		}
		defer hi.ex.release()
		hi.h.ServeHTTP(w, r)
	case websocket.Connect:
		if hi.c == nil {
			return nil
		}
		w, r, ok := hi.c.takeOver()
		if !ok {
			return nil
		}
		defer hi.c.release()
		hi.h.ServeHTTP(w, r)
	}
	return nil
}

// takeOver hands an upgrade request to a mounted http.Handler.
func (c *conn) takeOver() (http.ResponseWriter, *http.Request, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stConnecting {
		return nil, nil, false
	}
	c.state = stTaken
	w, r := c.w, c.r
	c.w, c.r = nil, nil
	c.decideLocked(decision{taken: true})
	return w, r, true
}

// release tells the request's goroutine that the handler returned.
func (c *conn) release() { close(c.decided) }
