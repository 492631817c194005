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
