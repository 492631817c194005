package fakeslack

import "testing"

// Connects returns how many Socket Mode connections were opened, and the
// Origin header each sent.
func (s *Server) Connects() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sock.connects, append([]string(nil), s.sock.origins...)
}

// WaitConnects waits until n connections were opened and one is open.
func (s *Server) WaitConnects(tb testing.TB, n int) {
	tb.Helper()
	if !s.waitFor(func() bool { return s.sock.connects >= n && len(s.sock.conns) > 0 }) {
		tb.Fatalf("fakeslack: fewer than %d Socket Mode connections within %v", n, Timeout)
	}
}

// WaitAcked waits until every envelope in ids is acknowledged.
func (s *Server) WaitAcked(tb testing.TB, ids ...string) {
	tb.Helper()
	var missing string
	if !s.waitFor(func() bool {
		for _, id := range ids {
			if e := s.sock.byID[id]; e == nil || !e.acked {
				missing = id
				return false
			}
		}
		return true
	}) {
		tb.Fatalf("fakeslack: envelope %s not acknowledged within %v", missing, Timeout)
	}
}

// Acked reports whether an envelope was acknowledged.
func (s *Server) Acked(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.sock.byID[id]
	return e != nil && e.acked
}

// Acks returns every acknowledgement received, duplicates included.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.sock.acks...)
}

// Sends returns how many times an envelope was written (more than once
// when a connection ended before it was acknowledged).
func (s *Server) Sends(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.sock.byID[id]; e != nil {
		return e.sends
	}
	return 0
}

// WaitAckCount waits until n acknowledgements were received in all.
func (s *Server) WaitAckCount(tb testing.TB, n int) {
	tb.Helper()
	if !s.waitFor(func() bool { return len(s.sock.acks) >= n }) {
		tb.Fatalf("fakeslack: fewer than %d acknowledgements within %v", n, Timeout)
	}
}
