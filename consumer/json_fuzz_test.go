package consumer_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
	wsevent "github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// order is what a JSON route of a WebSocket bot might take: nested
// objects, numbers, lists and free-form values.
type order struct {
	Type  string         `json:"type"`
	ID    int64          `json:"id"`
	Price float64        `json:"price"`
	Tags  []string       `json:"tags"`
	Extra map[string]any `json:"extra"`
	Ship  *struct {
		To      string `json:"to"`
		Express bool   `json:"express"`
	} `json:"ship"`
}

type orderBot struct {
	consumer.WebSocket
	got []order
}

func (b *orderBot) Order(_ context.Context, o order) error {
	b.got = append(b.got, o)
	return nil
}

// FuzzOnJSON feeds arbitrary frames, as text and as bytes, and as the
// typed event or the generic one a channel layer delivers, to a JSON
// route: a frame that decodes reaches the handler as encoding/json
// decodes it, with nothing sent; any other closes the connection with
// 1007 and an error wrapping ErrBadJSON, without reaching the handler.
func FuzzOnJSON(f *testing.F) {
	for _, s := range []string{
		`{"type":"buy","id":7,"price":9.5,"tags":["a","b"],"extra":{"k":[1,null,true]},"ship":{"to":"Oslo","express":true}}`,
		`{"type":"sell"}`, `{}`, `null`, `[]`, `"text"`, `42`,
		`{"id":"seven"}`, `{"id":1e400}`, `{"tags":[1]}`, `{"type":"\ud800"}`,
		`{not json`, ``, ` `, `{"a":` + "\x00" + `}`, "\xff\xfe",
		`{"extra":{"deep":{"deeper":{"deepest":[[[[[]]]]]}}}}`,
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	app := consumer.New(func() *orderBot { return new(orderBot) }, consumer.OnJSON((*orderBot).Order))
	f.Fuzz(func(t *testing.T, frame []byte, text bool) {
		r := wsevent.Receive{Bytes: frame}
		if text {
			r = wsevent.Receive{Text: string(frame)}
		}
		var want order
		wantErr := json.Unmarshal(frame, &want)
		data, err := event.Marshal(r)
		if err != nil {
			t.Fatalf("frame does not encode: %v", err)
		}
		generic, err := event.Unmarshal(data)
		if err != nil {
			t.Fatalf("frame does not decode: %v", err)
		}
		for _, ev := range []event.Event{r, generic} {
			conn := &nopConn{}
			inst, err := app.NewInstance(context.Background(), &scope.Scope{Type: "websocket", Path: "/orders/"}, conn)
			if err != nil {
				t.Fatal(err)
			}
			bot := inst.(*orderBot)
			err = inst.Handle(context.Background(), ev)
			if wantErr == nil {
				if err != nil || len(bot.got) != 1 || !reflect.DeepEqual(bot.got[0], want) || len(conn.sent) != 0 {
					t.Fatalf("%T %q: handler got %+v, want %+v; err %v; sent %v", ev, frame, bot.got, want, err, conn.sent)
				}
				continue
			}
			if !errors.Is(err, consumer.ErrBadJSON) || len(bot.got) != 0 {
				t.Fatalf("%T %q: err %v, handler got %+v", ev, frame, err, bot.got)
			}
			if len(conn.sent) != 1 || conn.sent[0] != (wsevent.Close{Code: wsevent.CloseInvalidPayload}) {
				t.Fatalf("%T %q: sent %v, want a 1007 close", ev, frame, conn.sent)
			}
		}
	})
}
