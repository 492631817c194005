package adapters

import (
	"bytes"
	"errors"
	"net/http"
	"sync"
)

// DefaultBodyBudget is the bytes of request bodies a process holds in
// memory at once, across its listeners, unless told otherwise.
const DefaultBodyBudget = 64 << 20

// ErrBodyBudget is returned by ReadBody when the process holds as many
// request bodies as its BodyBudget allows: the request is answered 503 at
// once, before any of its body is read.
var ErrBodyBudget = errors.New("adapters: too many request bodies in flight")

// ErrBodyTooLarge is returned by ReadBody for a body over its bound.
var ErrBodyTooLarge = errors.New("adapters: request body too large")

// BodyBudget bounds the bytes of request bodies held in memory at once, so
// that many clients each sending a body under its own bound cannot add up
// to more than the process can hold. One budget is shared by every
// listener of a process (a server makes one and gives it to every Host
// with WithBodyBudget). Safe for concurrent use.
type BodyBudget struct {
	max int64

	mu   sync.Mutex
	used int64 // bytes reserved by bodies in flight
}

// NewBodyBudget returns a budget of max bytes (DefaultBodyBudget if max is
// not positive).
func NewBodyBudget(max int64) *BodyBudget {
	if max <= 0 {
		max = DefaultBodyBudget
	}
	return &BodyBudget{max: max}
}

// Used returns the bytes reserved now.
func (b *BodyBudget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// reserve takes n bytes, or reports that they are not there.
func (b *BodyBudget) reserve(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *BodyBudget) free(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// ReadBody reads r's body, of at most max bytes, within b: it reserves the
// body's declared length (max when it declares none) before reading a
// byte, and returns ErrBodyBudget at once when b has not that much left,
// ErrBodyTooLarge (before reading, when the declared length says so) for a
// body over max. The read itself is bounded in time by the listener's
// read_body_timeout. release gives the reservation back, once the body is
// no longer needed; it is nil when err is not.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64, b *BodyBudget) (body []byte, release func(), err error) {
	if r.ContentLength > max {
		return nil, nil, ErrBodyTooLarge
	}
	n := max
	if r.ContentLength >= 0 {
		n = r.ContentLength
	}
	if b != nil && !b.reserve(n) {
		return nil, nil, ErrBodyBudget
	}
	var once sync.Once
	release = func() {
		if b != nil {
			once.Do(func() { b.free(n) })
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(n, max)+1))
	_, err = buf.ReadFrom(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		release()
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, nil, ErrBodyTooLarge
		}
		return nil, nil, err
	}
	return buf.Bytes(), release, nil
}

// BodyStatus is the HTTP status that answers a ReadBody error: 503 (with
// Retry-After set on w) for ErrBodyBudget, 413 for ErrBodyTooLarge, 400
// for a body that could not be read (cut off, or too slow).
func BodyStatus(w http.ResponseWriter, err error) int {
	switch {
	case errors.Is(err, ErrBodyBudget):
		w.Header().Set("Retry-After", "1")
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusBadRequest
	}
}
