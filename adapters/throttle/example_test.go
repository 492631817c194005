package throttle_test

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/throttle"
)

// An IRC server's flood control: five lines at once, then one every two
// seconds.
func Example() {
	b := throttle.New(5, 2*time.Second, nil)
	for i := 1; i <= 5; i++ {
		d, _ := b.Wait(context.Background())
		fmt.Printf("line %d waited %v\n", i, d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := b.Wait(ctx)
	fmt.Println("line 6:", err)
	// Output:
	// line 1 waited 0s
	// line 2 waited 0s
	// line 3 waited 0s
	// line 4 waited 0s
	// line 5 waited 0s
	// line 6: context deadline exceeded
}

// An adapter's config section reads a Rate, and the adapter fills in its
// defaults for what the section leaves out.
func ExampleRate_Or() {
	section := throttle.Rate{Burst: 3} // flood: {burst: 3}
	r := section.Or(throttle.Rate{Burst: 5, Interval: 2 * time.Second})
	fmt.Println(r.Burst, r.Interval)
	b := r.Bucket(nil)
	for range r.Burst {
		_, _ = b.Wait(context.Background())
	}
	fmt.Println("burst spent")
	// Output:
	// 3 2s
	// burst spent
}
