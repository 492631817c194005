package status

import "testing"

// With a durable intake the page says which partitions this process owns;
// without one, what it serves.
func TestClusterSaysWhatThisProcessOwns(t *testing.T) {
	for _, tc := range []struct {
		partitions func() ([]int, int)
		shared     bool
		want       string
	}{
		{func() ([]int, int) { return []int{1, 5, 9}, 64 }, true, "3 of 64 partitions: 1, 5, 9"},
		{func() ([]int, int) { return nil, 64 }, true, "none of the 64 partitions"},
		{nil, true, "the conversations whose traffic reaches this process"},
		{nil, false, "every conversation"},
	} {
		c := cluster(Layer{Shared: tc.shared}, tc.partitions)
		if c.Owns != tc.want {
			t.Errorf("owns %q, want %q", c.Owns, tc.want)
		}
	}
}
