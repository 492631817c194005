package fence

import (
	"context"
	"errors"
	"strconv"
	"sync"
)

// ErrLost is the error of a send whose connection dropped before the
// answer that settles it came: the message may or may not have gone out.
// A connection's reader fails its open fences with Lose(ErrLost), and an
// adapter that learns of the drop otherwise returns it as well, so that
// callers tell this outcome from a refusal with errors.Is whatever the
// protocol.
var ErrLost = errors.New("fence: connection lost before the server confirmed the message")

// Set is the fences open on one connection, each about a T (the target
// it was sent to) that refusals are matched against. The zero value is
// ready; it is safe for concurrent use.
type Set[T any] struct {
	mu   sync.Mutex
	seq  uint64
	open map[string]*Fence[T]
	lost error // once the connection is gone
}

// Fence is one send waiting for its outcome.
type Fence[T any] struct {
	// Token is unique in its Set: the id of the request that settles it.
	Token string
	// About is what refusals are matched against.
	About T

	err  error
	done chan struct{}
}

// Open starts a fence about a. On a Set that lost its connection, the
// fence is settled at once with the loss.
func (s *Set[T]) Open(about T) *Fence[T] {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	f := &Fence[T]{Token: "sb" + strconv.FormatUint(s.seq, 10), About: about, done: make(chan struct{})}
	if s.lost != nil {
		f.err = s.lost
		close(f.done)
		return f
	}
	if s.open == nil {
		s.open = map[string]*Fence[T]{}
	}
	s.open[f.Token] = f
	return f
}

// Refuse files err with every open fence that match accepts, unless it
// holds a refusal already (the first stands), and returns how many open
// fences match accepted: 0 for a refusal of a send no longer waiting.
func (s *Set[T]) Refuse(err error, match func(token string, about T) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for token, f := range s.open {
		if match(token, f.About) {
			n++
			if f.err == nil {
				f.err = err
			}
		}
	}
	return n
}

// Settle closes the fence with token, if it is open: its answer came, or
// its sender gives up.
func (s *Set[T]) Settle(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.open[token]; ok {
		delete(s.open, token)
		close(f.done)
	}
}

// Lose settles every open fence, and every one opened later, with err
// (unless refused before): the connection is gone.
func (s *Set[T]) Lose(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost = err
	for token, f := range s.open {
		delete(s.open, token)
		if f.err == nil {
			f.err = err
		}
		close(f.done)
	}
}

// Wait waits until f is settled, and returns its refusal, the loss of its
// connection, or nil; or ctx's error if ctx ends first.
func (f *Fence[T]) Wait(ctx context.Context) error {
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
