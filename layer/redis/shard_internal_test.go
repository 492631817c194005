package redis

import (
	"fmt"
	"testing"
)

// BenchmarkShardHash compares the two placements of shards mode: the time
// to place one name, and, as moved/name, the share of names that move to
// another shard when a shard is added to n.
func BenchmarkShardHash(b *testing.B) {
	names := make([]string, 4096)
	for i := range names {
		names[i] = fmt.Sprintf("specific.%012x!", i*7919)
	}
	for _, h := range []Hash{HashCRC32, HashJump} {
		place, _ := h.place()
		for _, n := range []int{2, 3, 8} {
			b.Run(fmt.Sprintf("%s/n=%d", h, n), func(b *testing.B) {
				moved := 0
				for _, name := range names {
					if place(name, n) != place(name, n+1) {
						moved++
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				sum := 0
				for i := range b.N {
					sum += place(names[i%len(names)], n)
				}
				b.ReportMetric(float64(moved)/float64(len(names)), "moved/name")
				if sum < 0 {
					b.Fatal(sum)
				}
			})
		}
	}
}
