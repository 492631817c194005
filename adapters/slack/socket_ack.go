package slack

import (
	"context"
	"errors"
	"sync"

	"github.com/slack-go/slack/socketmode"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// maxInFlight bounds the Socket Mode envelopes read but not yet settled
// (acknowledged, or given up for Slack to send again). Past it the
// adapter stops reading, and the connection's backpressure reaches Slack.
const maxInFlight = 1024

// socketRun is one Socket Mode session: the library's client, the lanes
// that deliver its envelopes and the acknowledgements on their way out.
type socketRun struct {
	a     *Adapter
	in    *adapters.Intake
	smc   *socketmode.Client
	slots chan struct{} // envelopes in flight
	lanes sync.WaitGroup

	mu      sync.Mutex
	queues  map[string][]*flight // per conversation key, in arrival order
	flights map[string]*flight   // by event id, until settled
	acks    []string             // envelope ids to acknowledge, in order
	wake    chan struct{}        // 1-buffered: acks has something, or done
	done    bool                 // no more acknowledgements will be queued
	emptied chan struct{}        // closed once flights is empty, if waited for
}

// flight is one event on its way from Slack to its handler, and the
// envelopes that carried it (Slack's redeliveries join the first).
type flight struct {
	id        string
	key       string
	in        inbound
	envelopes []string
	state     flightState
	expired   bool               // its deadline passed
	cancel    context.CancelFunc // ends its wait for room, while it waits
	stop      func() bool        // stops its deadline timer
}

type flightState uint8

const (
	flightQueued    flightState = iota // on its lane, or in Deliver
	flightDelivered                    // in its scope's inbox or handler
	flightSettled                      // acknowledged, or given up
)

func newSocketRun(a *Adapter, in *adapters.Intake, smc *socketmode.Client) *socketRun {
	return &socketRun{a: a, in: in, smc: smc, slots: make(chan struct{}, maxInFlight),
		queues: map[string][]*flight{}, flights: map[string]*flight{}, wake: make(chan struct{}, 1)}
}

// envelope takes one envelope off the connection: acknowledged at once
// if it carries nothing to deliver or an event delivered before, joined to
// the flight of its event if that is under way, or sent on its
// conversation's lane with its deadline running.
func (s *socketRun) envelope(ctx context.Context, req *socketmode.Request) {
	a := s.a
	in, err := a.decodeEnvelope(req)
	if err != nil || in.ev == nil {
		if err != nil {
			a.log.Warn("slack: bad socket mode envelope acknowledged and dropped", "adapter", a.cfg.Name,
				"envelope_type", req.Type, "err", err)
		}
		s.mu.Lock()
		s.ackLocked(req.EnvelopeID)
		s.mu.Unlock()
		return
	}
	if in.id == "" {
		in.id = "envelope:" + req.EnvelopeID
	}
	s.mu.Lock()
	switch a.seen.claim(in.id) {
	case claimAccepted:
		s.ackLocked(req.EnvelopeID)
		s.mu.Unlock()
		return
	case claimBusy:
		if f := s.flights[in.id]; f != nil {
			f.envelopes = append(f.envelopes, req.EnvelopeID)
		}
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		s.mu.Lock()
		a.seen.done(in.id, false)
		s.mu.Unlock()
		return
	}
	f := &flight{id: in.id, key: a.key(&in), in: in, envelopes: []string{req.EnvelopeID}}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flights[f.id] = f
	f.stop = a.clock.AfterFunc(a.cfg.AckDeadline, func() { s.expire(f) })
	q, running := s.queues[f.key]
	s.queues[f.key] = append(q, f)
	if !running {
		s.lanes.Add(1)
		go s.lane(ctx, f.key)
	}
}

// lane delivers one conversation's envelopes in order. A conversation
// whose inbox is full holds only its own lane: the others keep flowing.
func (s *socketRun) lane(ctx context.Context, key string) {
	defer s.lanes.Done()
	for {
		s.mu.Lock()
		q := s.queues[key]
		if len(q) == 0 {
			delete(s.queues, key)
			s.mu.Unlock()
			return
		}
		f := q[0]
		q[0] = nil
		s.queues[key] = q[1:]
		s.mu.Unlock()
		s.deliver(ctx, f)
	}
}

// deliver hands f to its scope, waiting for room until its deadline or
// Shutdown at most. An event that got no room is not acknowledged: Slack
// sends it again.
func (s *socketRun) deliver(ctx context.Context, f *flight) {
	s.mu.Lock()
	if f.expired || ctx.Err() != nil {
		s.settleLocked(f, false)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	ack := func(err error) { s.handled(f, err) }
	// Most often there is room: no wait, so nothing to cancel.
	err := s.in.TryDeliver(f.key, f.in.ev, s.a.newScope(&f.in), ack)
	if errors.Is(err, scope.ErrInboxFull) {
		s.mu.Lock()
		if f.expired {
			s.settleLocked(f, false)
			s.mu.Unlock()
			return
		}
		dctx, cancel := context.WithCancel(ctx)
		f.cancel = cancel
		s.mu.Unlock()
		err = s.in.Deliver(dctx, f.key, f.in.ev, s.a.newScope(&f.in), ack)
		cancel()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f.cancel = nil
	switch {
	case err != nil:
		if ctx.Err() == nil {
			s.a.log.Warn("slack: envelope not delivered; Slack will send it again", "adapter", s.a.cfg.Name,
				"event_id", f.in.id, "channel", f.in.channel, "err", err)
		}
		s.settleLocked(f, false)
	case f.state == flightQueued:
		f.state = flightDelivered
		if f.expired {
			// Room came as the deadline passed: the event is in this
			// process's hands now.
			s.settleLocked(f, true)
		}
	}
}

// handled is f's Ack: its handler returned (err nil), or it will not be
// handled in this process. It runs on the scope's goroutine and only
// queues what must be sent.
func (s *socketRun) handled(f *flight, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.state == flightSettled {
		if err != nil {
			s.a.log.Warn("slack: an event acknowledged at its deadline was not handled", "adapter", s.a.cfg.Name,
				"event_id", f.in.id, "channel", f.in.channel, "err", err)
		}
		return
	}
	if err != nil {
		s.a.log.Warn("slack: event not handled here; Slack will send it again", "adapter", s.a.cfg.Name,
			"event_id", f.in.id, "channel", f.in.channel, "err", err)
	}
	s.settleLocked(f, err == nil)
}

// expire is f's deadline: a delivered event still being handled is
// acknowledged now, and one still waiting for room stops waiting.
func (s *socketRun) expire(f *flight) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.expired = true
	switch f.state {
	case flightQueued:
		if f.cancel != nil {
			f.cancel()
		}
	case flightDelivered:
		s.a.log.Debug("slack: event acknowledged at its deadline while being handled", "adapter", s.a.cfg.Name,
			"event_id", f.in.id, "channel", f.in.channel)
		s.settleLocked(f, true)
	}
}

// settleLocked ends f: acknowledged (and remembered, so that Slack's
// retries are acknowledged without a second delivery), or given up (and
// forgotten, so that a retry is delivered).
func (s *socketRun) settleLocked(f *flight, ack bool) {
	if f.state == flightSettled {
		return
	}
	f.state = flightSettled
	if f.stop != nil {
		f.stop()
	}
	s.a.seen.done(f.id, ack)
	delete(s.flights, f.id)
	if ack {
		for _, e := range f.envelopes {
			s.ackLocked(e)
		}
	}
	<-s.slots
	if len(s.flights) == 0 && s.emptied != nil {
		close(s.emptied)
		s.emptied = nil
	}
}

// ackLocked queues an acknowledgement for the acker.
func (s *socketRun) ackLocked(envelope string) {
	if s.done {
		return
	}
	s.acks = append(s.acks, envelope)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// drained returns a channel closed once no event is in flight.
func (s *socketRun) drained() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	if len(s.flights) == 0 {
		close(ch)
	} else {
		s.emptied = ch
	}
	return ch
}

// stopAcks makes the acker send what is queued and return.
func (s *socketRun) stopAcks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// acker sends the queued acknowledgements, in order, until stopAcks; the
// library writes them on the current connection. It is its own goroutine
// because an Ack runs on a scope's goroutine and must not block.
func (s *socketRun) acker(ctx context.Context) {
	for {
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		}
		s.mu.Lock()
		acks, done := s.acks, s.done
		s.acks = nil
		s.mu.Unlock()
		for _, e := range acks {
			if err := s.smc.AckCtx(ctx, e, nil); err != nil {
				if ctx.Err() == nil {
					s.a.log.Warn("slack: ack failed", "adapter", s.a.cfg.Name, "envelope", e, "err", err)
				}
				return
			}
		}
		if done {
			return
		}
	}
}
