package layertest

import (
	"regexp"
	"strconv"
	"sync"

	"github.com/switchboard-bots/switchboard/layer"
)

// SkipCounter is a layer.SkipObserver that adds up what it is told, for
// tests that check a layer counts every delivery a group send skipped.
type SkipCounter struct {
	mu      sync.Mutex
	byGroup map[string]int
}

var _ layer.SkipObserver = (*SkipCounter)(nil)

// GroupSendSkipped implements layer.SkipObserver.
func (c *SkipCounter) GroupSendSkipped(group string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byGroup == nil {
		c.byGroup = map[string]int{}
	}
	c.byGroup[group] += n
}

// Skipped returns the deliveries to group counted so far.
func (c *SkipCounter) Skipped(group string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byGroup[group]
}

var skippedAttr = regexp.MustCompile(`group send skipped members whose channels are full" group=(\S+) skipped=(\d+)`)

// LoggedSkips adds up the skipped deliveries that the warnings in logs
// (text handler output) report for group, and the lines that report them.
func LoggedSkips(logs, group string) (total, lines int) {
	for _, m := range skippedAttr.FindAllStringSubmatch(logs, -1) {
		if m[1] != group {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		total += n
		lines++
	}
	return total, lines
}

// Total returns the deliveries counted so far, over every group.
func (c *SkipCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.byGroup {
		n += k
	}
	return n
}
