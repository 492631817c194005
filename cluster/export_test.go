package cluster

// Abandon stops the Node as a killed process would stop: no renewal, no
// acknowledgement, no release; its leases expire on their own.
func (n *Node) Abandon() {
	n.mu.Lock()
	t := n.term
	n.term = nil
	n.mu.Unlock()
	if t != nil {
		t.abandon()
	}
}

// WithReadHook makes hook run each time an owner is about to read a
// partition, in the partition's reading goroutine: a test holds an owner
// there, as a pause would.
func WithReadHook(hook func(partition int)) Option {
	return func(o *options) { o.beforeRead = hook }
}

// Queued returns how many calls wait for the Node's next pipeline.
func (n *Node) Queued() int {
	n.pipe.mu.Lock()
	defer n.pipe.mu.Unlock()
	return len(n.pipe.queue)
}
