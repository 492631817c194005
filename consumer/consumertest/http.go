package consumertest

import (
	"net/textproto"
	"strings"
	"testing"

	httpevent "github.com/switchboard-bots/switchboard/event/http"
	"github.com/switchboard-bots/switchboard/scope"
)

// Response is a whole HTTP response an application sent.
type Response struct {
	Status  int
	Headers map[string][]string
	Body    []byte
}

// HTTPRequest runs one HTTP request through app, the body in one chunk,
// and returns the response once its last body chunk was sent.
func HTTPRequest(t testing.TB, app scope.Application, method, path string, headers map[string][]string, body []byte, opts ...Option) Response {
	t.Helper()
	s := &scope.Scope{Type: "http", Method: method, Headers: textproto.MIMEHeader(headers)}
	s.Path, s.RawQuery, _ = strings.Cut(path, "?")
	c := New(t, app, s, opts...)
	c.Send(httpevent.Request{Body: body})
	start := Receive[httpevent.ResponseStart](c)
	resp := Response{Status: start.Status, Headers: start.Headers}
	for {
		b := Receive[httpevent.ResponseBody](c)
		resp.Body = append(resp.Body, b.Body...)
		if !b.MoreBody {
			break
		}
	}
	c.End(scope.ReasonClosed)
	return resp
}
