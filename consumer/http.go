package consumer

import (
	"context"
	"fmt"
	"net/http"

	httpevent "github.com/switchboard-bots/switchboard/event/http"
)

// DefaultMaxBody bounds the request body an HTTP consumer collects.
const DefaultMaxBody = 1 << 20

// HTTP is embedded in HTTP consumer types: it collects the request body
// from http.request chunks so that an OnRequest handler gets it whole, and
// adds Respond.
type HTTP struct {
	Base
	body   []byte
	tooBig bool
	// MaxBody bounds the collected body; zero means DefaultMaxBody. A
	// larger request is answered with 413 (Request Entity Too Large) and never reaches the handler.
	MaxBody int
}

// Requester is implemented by consumer types that embed HTTP.
type Requester interface {
	Instance
	http() *HTTP
}

func (h *HTTP) http() *HTTP { return h }

// Respond sends a whole response: status, headers and body.
func (h *HTTP) Respond(ctx context.Context, status int, headers map[string][]string, body []byte) error {
	if err := h.Send(ctx, httpevent.ResponseStart{Status: status, Headers: headers}); err != nil {
		return err
	}
	return h.Send(ctx, httpevent.ResponseBody{Body: body})
}

// OnRequest registers fn for http.request, called once with the whole body
// after its last chunk arrived. The request line and headers are in the
// scope (Path, RawQuery, Method, Headers).
func OnRequest[P Requester](fn func(P, context.Context, []byte) error) Handler[P] {
	return On(func(p P, ctx context.Context, r httpevent.Request) error {
		h := p.http()
		limit := h.MaxBody
		if limit == 0 {
			limit = DefaultMaxBody
		}
		if h.tooBig {
			h.tooBig = r.MoreBody // discard the rest of a refused body
			return nil
		}
		if len(h.body)+len(r.Body) > limit {
			h.body, h.tooBig = nil, r.MoreBody
			return h.Respond(ctx, http.StatusRequestEntityTooLarge, map[string][]string{"Content-Type": {"text/plain; charset=utf-8"}},
				fmt.Appendf(nil, "request body over %d bytes\n", limit))
		}
		if h.body == nil && !r.MoreBody {
			return fn(p, ctx, r.Body) // the common single-chunk case copies nothing
		}
		h.body = append(h.body, r.Body...)
		if r.MoreBody {
			return nil
		}
		body := h.body
		h.body = nil
		return fn(p, ctx, body)
	})
}
