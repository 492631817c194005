package http

import "github.com/switchboard-bots/switchboard/event"

// Request carries a chunk of the request body. MoreBody is true while more
// chunks follow; the last chunk has MoreBody false (and may be empty).
type Request struct {
	Body     []byte `msgpack:"body,omitempty"`
	MoreBody bool   `msgpack:"more_body,omitempty"`
}

func (Request) Type() string { return "http.request" }

// ResponseStart begins the response: status and headers.
type ResponseStart struct {
	Status  int                 `msgpack:"status"`
	Headers map[string][]string `msgpack:"headers,omitempty"`
}

func (ResponseStart) Type() string { return "http.response.start" }

// ResponseBody carries a chunk of the response body; the response ends
// with the chunk whose MoreBody is false.
type ResponseBody struct {
	Body     []byte `msgpack:"body,omitempty"`
	MoreBody bool   `msgpack:"more_body,omitempty"`
}

func (ResponseBody) Type() string { return "http.response.body" }

// Disconnect is the last event of an HTTP scope: the response was sent, the
// client went away, or the server is shutting down.
type Disconnect struct {
	Reason event.Reason `msgpack:"reason,omitempty"`
}

func (Disconnect) Type() string { return "http.disconnect" }

// EndReason implements scope.Final (the end of a scope, whatever the protocol).
func (d Disconnect) EndReason() event.Reason { return d.Reason }
