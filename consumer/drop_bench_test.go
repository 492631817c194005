package consumer

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/scope"
)

type benchSaid struct {
	Text string `msgpack:"text"`
}

func (benchSaid) Type() string { return "bench.said" }

type benchMember struct{ Base }

func (*benchMember) Said(context.Context, benchSaid) error { return nil }

// BenchmarkLayerMessageCheck is what a message from another process costs
// on its receiving goroutine before it enters the scope: decoding into
// its handler's type (done once; the handler gets the decoded value), or
// the drop of a message nothing handles, whose warning is rate-limited.
func BenchmarkLayerMessageCheck(b *testing.B) {
	app := New(func() *benchMember { return new(benchMember) }, On((*benchMember).Said))
	b.Run("decode", func(b *testing.B) {
		msg := event.Message{"type": "bench.said", "text": "hello from django"}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := app.accept(layer.NewShared(msg)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("drop", func(b *testing.B) {
		d := newDrops(nil)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		s := &scope.Scope{Type: "websocket", Key: "bench"}
		msg := event.Message{"type": "chat.message", "message": "hello from django"}
		b.ReportAllocs()
		for b.Loop() {
			_, err := app.accept(layer.NewShared(msg))
			d.drop(log, s, "specific.x!y", msg, err)
		}
	})
}
