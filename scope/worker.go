package scope

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/switchboard-bots/switchboard/event"
)

// work handles first, when not nil, then serves e's inbox until it is
// empty, and returns, so that an idle scope holds no goroutine. w is the
// pool worker serving e, or nil when a caller serves e inline: a pool
// worker ends e's turn after InboxSize events while other scopes wait for
// a worker, and puts e back at the end of the run queue, so that a scope
// whose inbox never empties cannot keep its worker from the others.
func (m *Manager) work(e *entry, first event.Event, w *worker) {
	sh := e.sh
	if first != nil {
		w.handlerStarts()
		err := m.handle(e, first)
		w.handlerReturned()
		if err != nil {
			m.fail(e, first, err)
		}
	}
	corked := false
	handled := 0
	for {
		sh.mu.Lock()
		if e.n == 0 && corked {
			// What the handlers sent goes out before the worker
			// decides to exit, and before the final event's handler
			// finishes the scope.
			sh.mu.Unlock()
			m.corker.Uncork(e.s)
			corked = false
			continue
		}
		if e.n == 0 {
			if e.state == stateEnding {
				sh.mu.Unlock()
				m.finish(e, w)
				return
			}
			e.running = false
			m.putRing(e.inbox) // an idle scope keeps no buffer
			e.inbox, e.head = nil, 0
			if e.state == stateLive {
				m.touchLocked(e)
			} else {
				e.last = m.now()
			}
			sh.mu.Unlock()
			return
		}
		if w != nil && handled >= m.cfg.InboxSize && m.pool.waiting.Load() > 0 {
			// The turn is over: e stays marked running, so that no
			// other worker takes it before it is back in the queue.
			sh.mu.Unlock()
			if corked {
				m.corker.Uncork(e.s)
			}
			m.workers.Add(1) // see claimLocked
			m.pool.put(e)
			return
		}
		it := e.inbox.buf[e.head]
		e.inbox.buf[e.head] = item{}
		e.head = (e.head + 1) % len(e.inbox.buf)
		e.n--
		e.handling = it.ev.Type()
		if e.space != nil {
			close(e.space)
			e.space = nil
		}
		more := e.n > 0
		sh.mu.Unlock()
		if more && !corked && m.corker != nil {
			m.corker.Cork(e.s)
			corked = true
		}
		w.handlerStarts()
		err := m.handle(e, it.ev)
		w.handlerReturned()
		handled++
		if err != nil {
			m.fail(e, it.ev, err)
		}
		if it.ack != nil {
			if err != nil && m.ctx.Err() != nil {
				// Close or Shutdown's deadline cancelled the handler: it
				// was cut short, not done, and the platform must send
				// the event again.
				it.ack(fmt.Errorf("scope %s: %w: its handler was cut short by the stop: %w", e.s, ErrNotHandled, err))
			} else {
				it.ack(nil)
			}
		}
	}
}

// handle runs one event through the instance, creating it first if needed.
// A panic becomes an error, so that one scope's bug never takes the
// process down.
func (m *Manager) handle(e *entry, ev event.Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	if e.inst == nil {
		inst, startErr := m.app.NewInstance(m.ctx, e.s, e)
		if startErr != nil {
			return &StartError{Err: startErr}
		}
		if inst == nil {
			return &StartError{Err: fmt.Errorf("application returned no instance")}
		}
		e.inst = inst
	}
	return e.inst.Handle(m.ctx, ev)
}

// fail ends a scope whose instance failed on ev. The events still queued
// behind ev are not dropped: they move to a new scope for the same key,
// which starts once this one has handled its final event.
func (m *Manager) fail(e *entry, ev event.Event, err error) {
	attrs := []any{"scope", e.s.String(), "event", ev.Type(), "err", err}
	if pe, ok := errors.AsType[*PanicError](err); ok {
		attrs = append(attrs, "stack", string(pe.Stack))
	}
	if _, refused := errors.AsType[*StartError](err); refused {
		// No route, a denied user: the application said no, nothing broke.
		m.log.Warn("scope refused", attrs...)
	} else if errors.Is(err, ErrPeerGone) {
		m.log.Debug("scope ended: its peer went away", attrs...)
	} else {
		m.log.Error("scope failed", attrs...)
	}
	sh := e.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e.state != stateLive {
		// The adapter already ended the scope: only the final event is
		// left to deliver, and the failed instance gets nothing more.
		if e.n > 0 {
			m.log.Error("scope failed while ending; queued events not handled",
				"scope", e.s.String(), "events", e.n)
			e.dropLocked()
		}
		return
	}
	var succ *entry
	if e.n > 0 {
		succ = &entry{m: m, sh: sh, s: e.s, blocked: true, last: e.last, moved: m.now()}
		succ.inbox, succ.head, succ.n = e.inbox, e.head, e.n
		e.inbox, e.head, e.n = nil, 0, 0
		if m.closed.Load() {
			m.log.Error("scope failed during shutdown; queued events not handled",
				"scope", e.s.String(), "events", succ.n)
			succ.dropLocked()
			succ = nil
		}
	}
	sh.retireLocked(e)
	if succ != nil {
		// The successor takes over the key and its live slot.
		sh.m[e.s.Key] = succ
		sh.pushFrontLocked(succ)
		e.succ = succ
	} else {
		m.live.Add(-1)
	}
	if e.inst != nil {
		e.final = m.proto.Disconnect(e.s, ReasonError)
	}
	if se, ok := errors.AsType[*StartError](err); ok {
		e.startErr = se.Err
	}
}

// dropLocked empties e's inbox, telling each event's ack that it will not
// be handled.
func (e *entry) dropLocked() {
	for i := range e.n {
		it := &e.inbox.buf[(e.head+i)%len(e.inbox.buf)]
		if it.ack != nil {
			it.ack(fmt.Errorf("scope %s: %w: its scope failed while ending", e.s, ErrNotHandled))
		}
	}
	clear(e.inbox.buf)
	e.head, e.n = 0, 0
}

// finish delivers e's final event (on a worker goroutine: w, when it is a
// pool worker), then lets a successor for the same key start.
func (m *Manager) finish(e *entry, w *worker) {
	var reason Reason = ReasonError
	if e.final != nil {
		e.sh.mu.Lock()
		e.handling = e.final.Type()
		e.sh.mu.Unlock()
		reason = e.final.EndReason()
		if e.inst != nil {
			w.handlerStarts()
			err := m.handleFinal(e)
			w.handlerReturned()
			if errors.Is(err, ErrPeerGone) {
				m.log.Debug("disconnect handler could not reach the peer, which went away", "scope", e.s.String(),
					"event", e.final.Type(), "err", err)
			} else if err != nil {
				m.log.Error("disconnect handler failed", "scope", e.s.String(),
					"event", e.final.Type(), "err", err)
			}
		}
	}
	if n, ok := m.proto.(EndNotifier); ok {
		n.Ended(e.s, reason, e.startErr)
	}
	sh := e.sh
	sh.mu.Lock()
	if sh.ending[e.s.Key] == e {
		delete(sh.ending, e.s.Key)
	}
	e.state = stateDone
	e.running = false
	e.inst = nil
	if e.inbox != nil {
		m.putRing(e.inbox)
		e.inbox = nil
	}
	if s := e.succ; s != nil {
		e.succ = nil
		s.blocked = false
		m.startLocked(s)
	}
	sh.mu.Unlock()
}

func (m *Manager) handleFinal(e *entry) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return e.inst.Handle(m.ctx, e.final)
}
