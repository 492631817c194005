package memory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-bots/switchboard/session/memory"
)

// A store on an injected clock sees the clock move at its next tick, or
// at once after Sweep. A value lives at least its time to live, and at
// most two resolutions more.
func ExampleStore_Sweep() {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	st := memory.New(memory.WithClock(func() time.Time { return now }), memory.WithResolution(time.Minute))
	if _, err := st.Save(ctx, "conv:telegram:42", []byte("hello"), 0, time.Hour); err != nil {
		fmt.Println(err)
	}

	now = now.Add(time.Hour)
	st.Sweep()
	r, _ := st.Load(ctx, "conv:telegram:42")
	fmt.Printf("after its time to live: %q\n", r.Data)

	now = now.Add(2 * time.Minute)
	st.Sweep()
	r, _ = st.Load(ctx, "conv:telegram:42")
	fmt.Printf("two resolutions later: %q, %d values stored\n", r.Data, st.Len())
	// Output:
	// after its time to live: "hello"
	// two resolutions later: "", 0 values stored
}
