package redis

// Kept returns how many messages l keeps for process-local channels that
// nobody was receiving from when they arrived, and how many receive loops
// it knows.
func Kept(l *Layer) (messages, loops int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.pollers {
		p.mu.Lock()
		for _, ib := range p.inboxes {
			messages += len(ib.buf)
		}
		p.mu.Unlock()
	}
	return messages, len(l.pollers)
}
