package websocket

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/switchboard-bots/switchboard/event"
	httpev "github.com/switchboard-bots/switchboard/event/http"
	"github.com/switchboard-bots/switchboard/scope"
)

// exchange is one HTTP request and its response.
type exchange struct {
	key   string
	scope *scope.Scope
	next  chan struct{} // a body chunk was handled; buffered
	done  chan struct{} // closed when the response is complete or given up

	mu       sync.Mutex
	w        http.ResponseWriter
	r        *http.Request
	status   int  // from http.response.start; 0 before it
	wrote    bool // the status line went out
	finished bool // done is closed
	taken    bool // a mounted http.Handler owns w and r
	broken   bool // the response was cut short after it began
}

// serveHTTP serves a plain request: its body goes to the scope in
// http.request chunks, paced by the consumer (the next chunk is read once
// the previous one was handled), and the consumer's http.response.*
// events become the response.
func (a *Adapter) serveHTTP(rn *run, w http.ResponseWriter, r *http.Request) {
	if a.cfg.MaxBody > 0 {
		if r.ContentLength > a.cfg.MaxBody {
			w.Header().Set("Connection", "close")
			http.Error(w, fmt.Sprintf("request body over %d bytes", a.cfg.MaxBody), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxBody)
	}
	ex := &exchange{key: a.newKey('h'), w: w, r: r, next: make(chan struct{}, 1), done: make(chan struct{})}
	ex.scope = a.newScope(TypeHTTP, r, ex)
	handled := func(error) { ex.handled() }
	body := bodyReader{r: r.Body, left: r.ContentLength, chunk: a.cfg.BodyChunk}
	chunk, more, err := body.read()
	if err != nil {
		a.badBody(w, err)
		return
	}
	if err := rn.in.Deliver(r.Context(), ex.key, httpev.Request{Body: chunk, MoreBody: more}, ex.newScope, handled); err != nil {
		http.Error(w, "server busy", http.StatusServiceUnavailable)
		return
	}
	for stopping := false; more && !stopping; {
		select {
		case <-ex.next:
		case <-ex.done:
		case <-r.Context().Done():
		case <-rn.stopping:
			stopping = true
			continue
		}
		if ex.over() || r.Context().Err() != nil {
			break
		}
		if chunk, more, err = body.read(); err != nil {
			ex.abort(bodyStatus(err))
			break
		}
		if err := rn.in.Deliver(r.Context(), ex.key, httpev.Request{Body: chunk, MoreBody: more}, ex.newScope, handled); err != nil {
			ex.abort(http.StatusServiceUnavailable)
			break
		}
	}
	final := httpev.Disconnect{Reason: scope.ReasonClosed}
	stop := rn.stopping // closed already if the loop above saw it
	for done := false; !done; {
		select {
		case <-ex.done:
			done = true
		case <-r.Context().Done():
			ex.giveUp()
			done = true
		case <-stop:
			// Shutdown: the scope handles what it has, then ends; a
			// request still unanswered then gets 503 (see Ended).
			stop, final.Reason = nil, scope.ReasonShutdown
			rn.in.End(ex.key, final)
		}
	}
	if final.Reason != scope.ReasonShutdown {
		rn.in.End(ex.key, final)
	}
	ex.mu.Lock()
	broken := ex.broken
	ex.mu.Unlock()
	if broken {
		panic(http.ErrAbortHandler) // the client must not take a cut response for whole
	}
}

func (a *Adapter) badBody(w http.ResponseWriter, err error) {
	status := bodyStatus(err)
	http.Error(w, http.StatusText(status), status)
}

func bodyStatus(err error) int {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// bodyReader reads a request body in chunks of at most chunk bytes.
type bodyReader struct {
	r     io.Reader
	left  int64 // bytes still expected, or -1 when unknown
	chunk int
}

func (b *bodyReader) read() ([]byte, bool, error) {
	if b.r == nil || b.r == http.NoBody || b.left == 0 {
		return nil, false, nil
	}
	size := b.chunk
	if b.left > 0 && b.left < int64(size) {
		size = int(b.left)
	}
	buf := make([]byte, size)
	for {
		n, err := b.r.Read(buf)
		if b.left > 0 {
			b.left -= int64(n)
		}
		switch {
		case err == io.EOF || (err == nil && b.left == 0):
			return buf[:n:n], false, nil
		case err != nil:
			return nil, false, err
		case n > 0:
			return buf[:n:n], true, nil
		}
	}
}

func (ex *exchange) newScope() *scope.Scope {
	s := *ex.scope
	return &s
}

// handled reports that a body chunk was handled.
func (ex *exchange) handled() {
	select {
	case ex.next <- struct{}{}:
	default:
	}
}

// over reports whether the request needs no more body from the adapter.
func (ex *exchange) over() bool {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.finished || ex.taken
}

func (ex *exchange) finishLocked() {
	if !ex.finished {
		ex.finished = true
		ex.w, ex.r = nil, nil
		close(ex.done)
	}
}

// abort answers with status if no response began, and ends the response.
func (ex *exchange) abort(status int) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.finished || ex.taken {
		return
	}
	if !ex.wrote {
		http.Error(ex.w, http.StatusText(status), status)
	} else {
		ex.broken = true
	}
	ex.finishLocked()
}

// giveUp ends the response of a client that went away. A mounted handler
// is waited for: it owns the ResponseWriter until it returns.
func (ex *exchange) giveUp() {
	ex.mu.Lock()
	if ex.taken {
		ex.mu.Unlock()
		<-ex.done
		return
	}
	ex.finishLocked()
	ex.mu.Unlock()
}

func (ex *exchange) send(ev event.Event) error {
	if m, ok := ev.(event.Message); ok {
		var err error
		switch m.Type() {
		case httpev.ResponseStart{}.Type():
			ev, err = event.Decode[httpev.ResponseStart](m)
		case httpev.ResponseBody{}.Type():
			ev, err = event.Decode[httpev.ResponseBody](m)
		}
		if err != nil {
			return err
		}
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.finished || ex.taken {
		return ErrClosed
	}
	switch ev := ev.(type) {
	case httpev.ResponseStart:
		if ex.status != 0 {
			return fmt.Errorf("%w: a second http.response.start", ErrResponseState)
		}
		if ev.Status < 100 || ev.Status > 999 {
			return fmt.Errorf("%w: status %d", ErrResponseState, ev.Status)
		}
		ex.status = ev.Status
		h := ex.w.Header()
		for k, vs := range ev.Headers {
			h[http.CanonicalHeaderKey(k)] = append(h[http.CanonicalHeaderKey(k)], vs...)
		}
		return nil
	case httpev.ResponseBody:
		if ex.status == 0 {
			return fmt.Errorf("%w: http.response.body before http.response.start", ErrResponseState)
		}
		if !ex.wrote {
			ex.wrote = true
			ex.w.WriteHeader(ex.status)
		}
		if len(ev.Body) > 0 {
			if _, err := ex.w.Write(ev.Body); err != nil {
				ex.finishLocked()
				return fmt.Errorf("%w: write response: %w", ErrClosed, err)
			}
		}
		if ev.MoreBody {
			// Streamed responses (long polls, server-sent events) reach
			// the client chunk by chunk.
			_ = http.NewResponseController(ex.w).Flush()
			return nil
		}
		ex.finishLocked()
		return nil
	}
	return fmt.Errorf("%w %q on an http scope", ErrUnsupportedEvent, ev.Type())
}

// takeOver hands the request to a mounted http.Handler: its body is first
// (already read) followed by the rest, if more.
func (ex *exchange) takeOver(first []byte, more bool) (http.ResponseWriter, *http.Request, bool) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.finished || ex.taken || ex.status != 0 {
		return nil, nil, false
	}
	ex.taken = true
	r := new(http.Request)
	*r = *ex.r
	rest := io.Reader(http.NoBody)
	if more {
		rest = ex.r.Body
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(first), rest), ex.r.Body}
	ex.handled()
	return ex.w, r, true
}

// release ends a mounted handler's turn.
func (ex *exchange) release() {
	ex.mu.Lock()
	ex.taken = false
	ex.finishLocked()
	ex.mu.Unlock()
}
