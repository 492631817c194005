package matrix

import (
	"errors"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// inbound is one message on its way to its scope.
type inbound struct {
	key   string
	msg   Message
	b     *batch
	s     func() *scope.Scope
	again bool // given once and not handled: this is its second try
}

// deliver gives in to its scope at once, or parks it behind the
// conversation's parked messages or its full inbox.
func (s *syncer) deliver(in inbound) {
	s.mu.Lock()
	in.b.pending++
	s.inflight++
	if q, busy := s.parked[in.key]; busy {
		s.parked[in.key] = append(q, in)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	err := s.in.TryDeliver(in.key, in.msg, in.s, s.acker(in))
	switch {
	case err == nil:
	case errors.Is(err, scope.ErrInboxFull), errors.Is(err, scope.ErrTooManyScopes):
		s.park(in)
	default:
		s.notHandled(in, err)
	}
}

// park queues in behind its conversation's full inbox, and starts the
// conversation's drain if none runs.
func (s *syncer) park(in inbound) {
	s.mu.Lock()
	q, busy := s.parked[in.key]
	s.parked[in.key] = append(q, in)
	s.mu.Unlock()
	if !busy {
		s.drains.Go(func() { s.drain(in.key) })
	}
}

// drain delivers a conversation's parked messages in order, waiting for
// room in its inbox until the Intake's grace ends.
func (s *syncer) drain(key string) {
	ctx := s.in.Grace()
	backoff := s.a.cfg.Retry.MinBackoff
	for {
		s.mu.Lock()
		q := s.parked[key]
		if len(q) == 0 {
			delete(s.parked, key)
			s.mu.Unlock()
			return
		}
		in := q[0]
		s.mu.Unlock()
		err := s.in.Deliver(ctx, key, in.msg, in.s, s.acker(in))
		if errors.Is(err, scope.ErrTooManyScopes) && adapters.Sleep(ctx, s.a.clock, backoff) == nil {
			backoff = min(2*backoff, s.a.cfg.Retry.MaxBackoff)
			continue
		}
		s.mu.Lock()
		s.parked[key] = s.parked[key][1:]
		s.mu.Unlock()
		if err != nil {
			s.notHandled(in, err)
		}
	}
}

// acker returns the acknowledgement of in: handled, or not handled here.
func (s *syncer) acker(in inbound) scope.Ack {
	return func(err error) {
		if err != nil {
			s.notHandled(in, err)
			return
		}
		s.mu.Lock()
		in.b.pending--
		in.b.handled = append(in.b.handled, in.msg.EventID)
		s.inflight--
		s.advanceLocked()
		s.dirtyLocked()
		s.signalLocked()
		s.mu.Unlock()
	}
}

// notHandled records that in was not handled. While the adapter runs
// (its scope failed while ending) it is given once more; a second failure
// is logged and passed over, so that one bad message cannot hold the
// stored position back for good. Once the adapter stops, it stays
// unhandled: its batch is never passed, so the next process syncs it
// again.
func (s *syncer) notHandled(in inbound, err error) {
	if !s.stopping.Load() && s.in.Grace().Err() == nil {
		if !in.again {
			s.log.Warn("matrix: message not handled; giving it again", "event_id", in.msg.EventID, "err", err)
			in.again = true
			s.park(in)
			return
		}
		s.log.Error("matrix: message not handled twice; passed over", "room", in.msg.RoomID, "event_id", in.msg.EventID, "err", err)
		s.mu.Lock()
		in.b.pending--
		s.inflight--
		s.advanceLocked()
		s.signalLocked()
		s.mu.Unlock()
		return
	}
	s.log.Debug("matrix: message not handled; left for the next sync from the stored position", "event_id", in.msg.EventID, "err", err)
	s.mu.Lock()
	s.inflight--
	s.signalLocked()
	s.mu.Unlock()
}
