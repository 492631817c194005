package reconnect

import (
	"cmp"
	"sync"
)

// Ending is the Done and Err of a Conn, to embed in one: what learns why
// the connection is ending (a server's farewell, a refused login) records
// it with Fail, and what sees the connection gone (its reader) calls End.
// The zero value is ready; it is safe for concurrent use.
type Ending struct {
	mu    sync.Mutex
	done  chan struct{}
	ended bool
	err   error
}

// Done implements Conn: it is closed by End.
func (e *Ending) Done() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.doneLocked()
}

// doneLocked returns Done's channel, made on first use so that the zero
// value is ready.
func (e *Ending) doneLocked() chan struct{} {
	if e.done == nil {
		e.done = make(chan struct{})
	}
	return e.done
}

// Err implements Conn: the first reason given to Fail or End, nil while
// none was, so that a failed dial can tell whether the server gave one.
func (e *Ending) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// Fail records err as why the connection ends, unless a reason came
// before: the first stands, as later ones are mostly its consequences.
func (e *Ending) Fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.err = cmp.Or(e.err, err)
}

// End records err as Fail does, for a connection that ends with no
// reason given before, and closes Done. Later calls change nothing.
func (e *Ending) End(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.err = cmp.Or(e.err, err)
	if !e.ended {
		e.ended = true
		close(e.doneLocked())
	}
}

// Ended reports whether End was called: whether Done is closed.
func (e *Ending) Ended() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ended
}
