package redis

import (
	"fmt"
	"hash/crc32"

	"github.com/cespare/xxhash/v2"
)

// Hash names how shards mode maps a name to one of its servers.
type Hash string

const (
	// HashCRC32 is channels_redis' consistent_hash: the low 12 bits of
	// the name's CRC-32 (IEEE), a point on a ring of 4096, which is cut
	// into as many equal arcs as there are shards. A Django Channels
	// site with the same list of shards puts every group, and every
	// channel it reads, where this does.
	HashCRC32 Hash = "crc32"
	// HashJump is jump consistent hash (Lamping and Veach) over
	// xxhash64, for deployments without channels_redis: adding an
	// (n+1)th shard moves 1/(n+1) of the names, where CRC32's arcs move
	// about half of them.
	HashJump Hash = "jump"
)

// place returns the function that maps a name to one of n shards.
func (h Hash) place() (func(name string, n int) int, error) {
	switch h {
	case "", HashCRC32:
		return crc32Shard, nil
	case HashJump:
		return jumpShard, nil
	}
	return nil, fmt.Errorf("unknown hash %q, want %s or %s", h, HashCRC32, HashJump)
}

// crc32Shard is channels_redis' _consistent_hash, operation for
// operation: int(crc32(name) & 0xFFF / (4096 / float(n))), in doubles as
// Python computes it, so that both sides round the same way.
func crc32Shard(name string, n int) int {
	if n <= 1 {
		return 0
	}
	point := crc32String(name) & 0xfff
	return int(float64(point) / (4096 / float64(n)))
}

// crc32String is crc32.ChecksumIEEE of name, byte by byte over the
// package's table: names are short, and converting one to the []byte
// that ChecksumIEEE takes would cost an allocation per operation.
func crc32String(name string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(name); i++ {
		crc = crc32.IEEETable[byte(crc)^name[i]] ^ crc>>8
	}
	return ^crc
}

// jumpShard picks one of n shards for name by jump consistent hash over
// xxhash64. Both are fixed algorithms, so every process agrees on the
// shard of every name.
func jumpShard(name string, n int) int {
	if n <= 1 {
		return 0
	}
	key := xxhash.Sum64String(name)
	var b, j int64 = -1, 0
	for j < int64(n) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}
