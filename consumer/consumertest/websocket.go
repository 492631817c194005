package consumertest

import (
	"encoding/json"
	"net/textproto"
	"strings"
	"testing"

	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// WebSocket drives a WebSocket scope, like Channels' WebsocketCommunicator.
type WebSocket struct{ *Communicator }

// NewWebSocket returns a WebSocket communicator for a connection to path
// (query string after "?").
func NewWebSocket(t testing.TB, app scope.Application, path string, opts ...Option) *WebSocket {
	t.Helper()
	s := &scope.Scope{Type: "websocket", Headers: textproto.MIMEHeader{}}
	s.Path, s.RawQuery, _ = strings.Cut(path, "?")
	return &WebSocket{New(t, app, s, opts...)}
}

// Connect sends websocket.connect and returns whether the application
// accepted, with the subprotocol it chose. A rejection's close code is
// returned when it rejected.
func (w *WebSocket) Connect() (accepted bool, subprotocol string, closeCode int) {
	w.t.Helper()
	w.Send(wsevent.Connect{})
	switch ev := w.Receive().(type) {
	case wsevent.Accept:
		return true, ev.Subprotocol, 0
	case wsevent.Close:
		return false, "", ev.Code
	default:
		w.t.Fatalf("consumertest: got %s after connect, want websocket.accept or websocket.close", ev.Type())
		return false, "", 0
	}
}

// SendText sends a text frame.
func (w *WebSocket) SendText(text string) { w.t.Helper(); w.Send(wsevent.Receive{Text: text}) }

// SendBytes sends a binary frame.
func (w *WebSocket) SendBytes(b []byte) {
	w.t.Helper()
	if b == nil {
		b = []byte{}
	}
	w.Send(wsevent.Receive{Bytes: b})
}

// SendJSON sends v as JSON in a text frame.
func (w *WebSocket) SendJSON(v any) {
	w.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		w.t.Fatalf("consumertest: %v", err)
	}
	w.SendText(string(data))
}

// ReceiveText returns the next text frame, failing on anything else.
func (w *WebSocket) ReceiveText() string {
	w.t.Helper()
	s := Receive[wsevent.Send](w.Communicator)
	if s.Bytes != nil {
		w.t.Fatalf("consumertest: got a binary frame %q, want text", s.Bytes)
	}
	return s.Text
}

// ReceiveJSON decodes the next text frame into v.
func (w *WebSocket) ReceiveJSON(v any) {
	w.t.Helper()
	text := w.ReceiveText()
	if err := json.Unmarshal([]byte(text), v); err != nil {
		w.t.Fatalf("consumertest: frame %q is not JSON: %v", text, err)
	}
}

// Disconnect ends the connection as a client closing with code, and waits
// until the instance has handled websocket.disconnect.
func (w *WebSocket) Disconnect(code int) {
	w.t.Helper()
	w.EndWith(wsevent.Disconnect{Code: code, Reason: scope.ReasonClosed}, scope.ReasonClosed)
}
