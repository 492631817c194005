package matrix

import "context"

// batch is the events one sync brought, and where that sync ended.
type batch struct {
	token   string
	open    bool     // its events are still being given out
	pending int      // given out and not handled yet
	handled []string // ids handled, or skipped as handled before a restart
}

// advanceLocked moves the position past the batches wholly handled.
func (s *syncer) advanceLocked() {
	n := 0
	for n < len(s.batches) && !s.batches[n].open && s.batches[n].pending == 0 {
		n++
	}
	if n > 0 {
		moved := s.position != s.batches[n-1].token
		s.position = s.batches[n-1].token
		s.batches = s.batches[n:]
		if moved {
			s.dirtyLocked()
		}
	}
}

func (s *syncer) dirtyLocked() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

func (s *syncer) signalLocked() {
	close(s.progress)
	s.progress = make(chan struct{})
}

// settle waits until nothing taken is still being handled, or ctx ends.
func (s *syncer) settle(ctx context.Context) {
	for {
		s.mu.Lock()
		n, progress := s.inflight, s.progress
		s.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return
		}
	}
}

// saveLoop saves the State whenever it changed, until stop is closed;
// changes that come while a save runs are saved together after it.
func (s *syncer) saveLoop(stop <-chan struct{}) {
	for {
		select {
		case <-s.dirty:
			s.save(context.Background())
		case <-stop:
			return
		}
	}
}

// save stores the current State, if there is a store.
func (s *syncer) save(ctx context.Context) {
	st := s.snapshot()
	if s.a.store == nil || (st.NextBatch == "" && len(st.Handled) == 0) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.a.cfg.RequestTimeout)
	defer cancel()
	if err := s.a.store.Save(ctx, st); err != nil {
		s.log.Error("matrix: could not store the sync position; a restart may handle some messages again",
			"next_batch", st.NextBatch, "err", err)
	}
}

// snapshot returns the State to store now.
func (s *syncer) snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{NextBatch: s.position}
	for _, b := range s.batches {
		st.Handled = append(st.Handled, b.handled...)
	}
	return st
}
