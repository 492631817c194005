package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/session/memory"
)

// BenchmarkValue is what a consumer's plain state costs the store per
// event: a LoadValue, and a SaveValue when the state changed, of one key
// with a time to live.
func BenchmarkValue(b *testing.B) {
	type state struct {
		N    int
		Last string
	}
	encode := func(any) ([]byte, error) { return nil, nil }
	for _, save := range []bool{false, true} {
		name := "reading"
		if save {
			name = "changing"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			st := memory.New()
			const key = "conv:websocket:c1/consumer_test.benchState"
			v, _, err := st.SaveValue(ctx, key, &state{}, encode, 0, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			var box *state // what the store gave back, for the next save
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				rec, err := st.LoadValue(ctx, key, v)
				if err != nil || rec.Version != v {
					b.Fatalf("LoadValue = %+v, %v; want version %d", rec, err, v)
				}
				if save {
					if box == nil {
						box = new(state)
					}
					box.N = i
					var spare any
					if v, spare, err = st.SaveValue(ctx, key, box, encode, v, time.Hour); err != nil {
						b.Fatal(err)
					}
					box, _ = spare.(*state)
				}
			}
		})
	}
}
