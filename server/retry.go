package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
)

// Bounds of the backoff between attempts to start an adapter whose
// platform cannot be reached: it doubles from RetryMinBackoff after each
// failure, up to RetryMaxBackoff, and starts again from the minimum once
// the adapter has served.
const (
	RetryMinBackoff = time.Second
	RetryMaxBackoff = 30 * time.Second
)

// retryState is an adapter waiting to be started again.
type retryState struct {
	err     error     // why its last run failed
	at      time.Time // when the next attempt starts
	backoff time.Duration
}

// retryable reports whether an adapter that failed with err may succeed
// if started again: its platform could not be reached (a network error,
// a server error or rate limit the client library calls retryable).
// Refusals (a bad token) and listeners that cannot bind are not.
func retryable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "listen" {
		return false
	}
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// retryLater arranges for the adapter of h, which failed with err, to be
// built and started again after a backoff, the other adapters serving
// meanwhile. It sends the new Host on retry, or nil when it gives up (the
// server stops, ctx ends, or a reload started the adapter already). It
// reports false, arranging nothing, when the server is stopping.
func (s *Server) retryLater(ctx context.Context, h *adapters.Host, err error, retry chan<- *adapters.Host) bool {
	name := h.Name()
	if inner := errors.Unwrap(err); inner != nil {
		err = inner // the Host's error names the adapter, as the check does
	}
	served := false
	select {
	case <-h.Ready():
		served = true
	default:
	}
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return false
	}
	backoff := RetryMinBackoff
	if st, ok := s.retries[name]; ok && !served {
		backoff = min(2*st.backoff, RetryMaxBackoff)
	}
	if s.retries == nil {
		s.retries = map[string]retryState{}
	}
	s.retries[name] = retryState{err: err, at: time.Now().Add(backoff), backoff: backoff}
	s.mu.Unlock()
	s.removeHost(h)
	s.log.Warn("adapter cannot reach its platform; starting it again after a backoff, the others serve meanwhile",
		"adapter", name, "err", err, "retry_in", backoff.String())
	go func() {
		t := time.NewTimer(backoff)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			retry <- nil
			return
		case <-s.stopRetries:
			retry <- nil
			return
		}
		retry <- s.rebuild(name)
	}()
	return true
}

// rebuild builds the adapter named name again from the running config
// and records it, or returns nil if it cannot, the server stops, or the
// adapter runs already (a reload started it).
func (s *Server) rebuild(name string) *adapters.Host {
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	if h, _ := s.host(name); h != nil {
		return nil
	}
	sections, err := adapterSections(cfg, s.opts, s.reg)
	if err != nil || sections[name] == nil {
		s.forgetRetry(name)
		return nil
	}
	h, protos, max, err := s.newHost(cfg, name, sections[name])
	if err != nil || h == nil {
		s.log.Error("adapter cannot be built again; it stays stopped", "adapter", name, "err", err)
		s.forgetRetry(name)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil
	}
	s.adapters = append(s.adapters, h)
	s.protos[name], s.maxScopes[name] = protos, max
	s.findWeb()
	return h
}

func (s *Server) forgetRetry(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.retries, name)
}

// retryError is why the adapter named name is not ready while it waits
// to be started again, or nil.
func (s *Server) retryError(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.retries[name]
	if !ok {
		return nil
	}
	wait := time.Until(st.at).Round(100 * time.Millisecond)
	if wait <= 0 {
		return fmt.Errorf("%w: %w; starting again", adapters.ErrUnreachable, st.err)
	}
	return fmt.Errorf("%w: %w; starting again in %v", adapters.ErrUnreachable, st.err, wait)
}
