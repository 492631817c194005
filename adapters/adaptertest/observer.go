package adaptertest

import (
	"slices"
	"sync"
	"time"
)

// Observer records what an adapter reports about its outbound calls. It
// has the methods of the Observer interfaces of the Telegram and Slack
// adapters, so tests of those (and of a new adapter with the same hooks)
// can check that retries and rate-limit waits are reported.
type Observer struct {
	mu      sync.Mutex
	retries []string
	waits   []Wait
}

// Wait is one reported rate-limit wait.
type Wait struct {
	Adapter string
	D       time.Duration
}

// OutboundRetry records a retried call.
func (o *Observer) OutboundRetry(adapter string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries = append(o.retries, adapter)
}

// RateLimitWait records a wait.
func (o *Observer) RateLimitWait(adapter string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waits = append(o.waits, Wait{adapter, d})
}

// Recorded returns what was reported so far: the adapter name of each
// retry, and each wait.
func (o *Observer) Recorded() (retries []string, waits []Wait) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.retries), slices.Clone(o.waits)
}

// Take is Recorded, and starts afresh.
func (o *Observer) Take() (retries []string, waits []Wait) {
	o.mu.Lock()
	defer o.mu.Unlock()
	retries, waits = o.retries, o.waits
	o.retries, o.waits = nil, nil
	return retries, waits
}
