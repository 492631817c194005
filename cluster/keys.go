package cluster

import (
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// group is the consumer group every owner reads a partition with.
const group = "owners"

// keys names a cluster's keys in Redis. A partition's keys share the hash
// tag {p}, so that on Redis Cluster they live on one slot and its scripts
// may touch them all.
type keys struct{ prefix string }

// stream is partition p's log.
func (k keys) stream(p int) string { return k.prefix + ":intake:{" + strconv.Itoa(p) + "}" }

// lease holds the token of partition p's owner.
func (k keys) lease(p int) string { return k.stream(p) + ":lease" }

// seenPrefix begins the keys that mark the platform ids of partition p's
// entries as seen: the prefix, the adapter's name, ':' and the id
// (the marks of claimScript and stepScript make them).
func (k keys) seenPrefix(p int) string { return k.stream(p) + ":seen:" }

// bell is the stream a Node's reader waits on beside its partitions' (see
// group).
func (k keys) bell(node string) string { return k.prefix + ":intake:bell:" + node }

// members is the sorted set of live Nodes, scored by when each stops
// counting as live (Unix milliseconds).
func (k keys) members() string { return k.prefix + ":intake:members" }

// partitionOf returns the partition of a conversation.
func partitionOf(adapter, key string, n int) int {
	d := xxhash.New()
	_, _ = d.WriteString(adapter)
	_, _ = d.Write([]byte{0})
	_, _ = d.WriteString(key)
	return int(d.Sum64() % uint64(n))
}

// assign returns the partitions that member serves among members:
// rendezvous hashing, so that a member joining or leaving moves only the
// partitions it takes or gives up.
func assign(members []string, member string, n int) map[int]bool {
	mine := map[int]bool{}
	for p := range n {
		best, bestScore := "", uint64(0)
		for _, m := range members {
			s := xxhash.Sum64String(m + "/" + strconv.Itoa(p))
			if best == "" || s > bestScore || (s == bestScore && m < best) {
				best, bestScore = m, s
			}
		}
		if best == member {
			mine[p] = true
		}
	}
	return mine
}
