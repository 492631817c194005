package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard-bots/switchboard/event"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
)

// wsProtocol is the Scope.Type of WebSocket scopes.
const wsProtocol = "websocket"

// WebSocket is embedded in WebSocket consumer types. It accepts every
// connection unless the type registers its own websocket.Connect handler,
// and adds Accept, SendText, SendBytes, SendJSON and Close to Base.
type WebSocket struct{ Base }

// Accept accepts the connection with subprotocol ("" for none).
func (w *WebSocket) Accept(ctx context.Context, subprotocol string) error {
	return w.Send(ctx, wsevent.Accept{Subprotocol: subprotocol})
}

// SendText sends a text frame.
func (w *WebSocket) SendText(ctx context.Context, text string) error {
	return w.Send(ctx, wsevent.Send{Text: text})
}

// SendBytes sends a binary frame.
func (w *WebSocket) SendBytes(ctx context.Context, b []byte) error {
	if b == nil {
		b = []byte{}
	}
	return w.Send(ctx, wsevent.Send{Bytes: b})
}

// SendJSON sends v encoded as JSON in a text frame.
func (w *WebSocket) SendJSON(ctx context.Context, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("consumer: encode JSON for %s: %w", w.scope, err)
	}
	return w.SendText(ctx, string(data))
}

// Close closes the connection with code (0 means 1000), or rejects it when
// called before Accept.
func (w *WebSocket) Close(ctx context.Context, code int) error {
	if code == 0 {
		code = wsevent.CloseNormal
	}
	return w.Send(ctx, wsevent.Close{Code: code})
}

func (w *WebSocket) defaultHandle(ctx context.Context, ev event.Event) (bool, error) {
	if _, ok := ev.(wsevent.Connect); ok {
		return true, w.Accept(ctx, "")
	}
	return false, nil
}

// ErrBadJSON is wrapped by the error an OnJSON handler returns for a frame
// that does not decode.
var ErrBadJSON = errors.New("consumer: malformed JSON frame")

// JSONer is implemented by consumer types that embed WebSocket.
type JSONer interface {
	Instance
	Close(ctx context.Context, code int) error
}

// OnJSON registers fn for websocket.receive, decoding each frame's content
// as JSON into V. A frame that does not decode closes the connection with
// 1007 (invalid payload) and ends the scope with an error wrapping
// ErrBadJSON, so the client learns what went wrong and the log says so.
func OnJSON[P JSONer, V any](fn func(P, context.Context, V) error) Handler[P] {
	return On(func(p P, ctx context.Context, r wsevent.Receive) error {
		data := r.Bytes
		if r.IsText() {
			data = []byte(r.Text)
		}
		var v V
		if err := json.Unmarshal(data, &v); err != nil {
			_ = p.Close(ctx, wsevent.CloseInvalidPayload)
			return fmt.Errorf("%w: %w", ErrBadJSON, err)
		}
		return fn(p, ctx, v)
	})
}
