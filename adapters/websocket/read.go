package websocket

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// readBufs holds the buffers messages are read into before they are copied
// into their events, so that an idle connection holds none.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledRead bounds the read buffers kept for reuse.
const maxPooledRead = 64 << 10

// readLoop delivers the connection's messages to its scope until the
// connection ends, then ends the scope with the close code. Between
// messages it waits for input in awaitInput, whose frames are few and
// small, rather than inside gorilla's reader (see idle.go); its own frame
// is small for the same reason: readMessage's is not on the stack then.
func (c *conn) readLoop(ws *gorilla.Conn, sock *corkConn) {
	defer c.run.untrack(c)
	for c.readMessage(ws) {
		sock.awaitInput()
	}
}

// readMessage reads the next message and delivers it. It returns false
// once the connection has ended.
func (c *conn) readMessage(ws *gorilla.Conn) bool {
	typ, rd, err := ws.NextReader()
	if err != nil {
		c.readEnded(ws, err)
		return false
	}
	ev, err := c.receive(typ, rd)
	if err != nil {
		c.readEnded(ws, err)
		return false
	}
	in := c.run.in
	msg, deliver, err := c.chatInbound(in.Grace(), ev)
	if errors.Is(err, errBadChatFrame) {
		c.readEnded(ws, err)
		return false
	}
	if !deliver {
		return true // an answer not offered: refused to the client
	}
	if c.closing.Load() || !c.flow.CompareAndSwap(0, flowBusy) {
		return true // closing, or shutdown began: what the client still sends is not delivered
	}
	// The read loop is this connection's goroutine anyway, so it
	// handles the message itself when the scope is idle rather than
	// starting a worker per message; while the instance is busy the
	// message queues, and a full inbox blocks here (until the
	// shutdown deadline at most): the client then feels the
	// backpressure through TCP. Either way the next frame (a pong
	// included) is read once this one is handed over, so a handler
	// that runs longer than ping_interval+pong_timeout drops its
	// connection.
	if err := in.DeliverInline(in.Grace(), c.key, msg, c.newScope); err != nil &&
		!errors.Is(err, scope.ErrClosed) {
		c.run.log.Warn("websocket: message not delivered", "adapter", c.a.cfg.Name, "key", c.key, "err", err)
	}
	if !c.flow.CompareAndSwap(flowBusy, 0) {
		c.endShutdown() // shutdown began meanwhile and left the end to us
	}
	return true
}

// receive reads a message of type typ from rd into its event.
func (c *conn) receive(typ int, rd io.Reader) (websocket.Receive, error) {
	bp := readBufs.Get().(*[]byte)
	// gorilla's read limit counts the bytes on the wire; a compressed
	// message inflates beyond them (a 61 KB frame can inflate to 60 MB),
	// so the inflated bytes are bounded here too, and reading stops one
	// byte past the limit rather than inflating the rest.
	b, err := readLimited((*bp)[:0], rd, c.a.cfg.ReadLimit)
	var ev websocket.Receive
	if err == nil {
		if typ == gorilla.TextMessage {
			if utf8.Valid(b) {
				ev.Text = string(b)
			} else {
				err = errInvalidUTF8
			}
		} else {
			ev.Bytes = bytes.Clone(b)
			if ev.Bytes == nil {
				ev.Bytes = []byte{} // an empty binary message is still binary
			}
		}
	}
	if cap(b) <= maxPooledRead {
		*bp = b[:0]
		readBufs.Put(bp)
	}
	return ev, err
}

// readLimited appends what r has to b until io.EOF, reading at most one
// byte more than limit: then it returns errInflatedTooBig.
func readLimited(b []byte, r io.Reader, limit int64) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		end := cap(b)
		if int64(end) > limit {
			end = int(limit) + 1
		}
		n, err := r.Read(b[len(b):end])
		b = b[:len(b)+n]
		switch {
		case int64(len(b)) > limit:
			return b, errInflatedTooBig
		case err == io.EOF:
			return b, nil
		case err != nil:
			return b, err
		}
	}
}

var (
	errInvalidUTF8    = errors.New("websocket: invalid UTF-8 in text message")
	errInflatedTooBig = errors.New("websocket: compressed message inflates beyond the read limit")
)

// readEnded closes the connection after its read side ended and ends the
// scope with the close code: the client's, the one the server sent, 1009
// or 1007 for a message the server refused, or 1006 when the connection
// dropped.
//
// A client that hung up (its side of the stream ended, without a close
// frame) may still read: the messages it sent before were accepted, and
// its scope may not have handled them yet. The scope is ended first then,
// and the socket closed once the answers are written (see answerHangUp).
// Any other end closes the socket at once: the client said goodbye with a
// close frame, which gorilla has answered, or it cannot read (a reset), or
// the server refused it.
func (c *conn) readEnded(ws *gorilla.Conn, err error) {
	code := websocket.CloseAbnormal
	hungUp := false
	var ce *gorilla.CloseError
	switch {
	case errors.As(err, &ce):
		code = ce.Code
		// gorilla reports the end of the stream as 1006, a code no close
		// frame may carry.
		hungUp = ce.Code == websocket.CloseAbnormal
	case errors.Is(err, gorilla.ErrReadLimit):
		// gorilla has sent the close frame; the rest of the frame and the
		// client's answer are drained so that the close reaches it.
		code = websocket.CloseTooBig
		c.refuse(code, "")
		c.linger(ws, false)
	case errors.Is(err, errInflatedTooBig):
		// Unlike gorilla's own limit, this one sends no close frame: it is
		// sent here. The reader stopped inside the message, so what the
		// client still sends is drained raw.
		code = websocket.CloseTooBig
		c.refuse(code, "")
		_ = ws.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(code, ""),
			time.Now().Add(c.a.cfg.WriteTimeout))
		c.linger(ws, false)
	case errors.Is(err, errInvalidUTF8):
		code = websocket.CloseInvalidPayload
		c.refuse(code, "invalid UTF-8")
		_ = ws.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(code, "invalid UTF-8"),
			time.Now().Add(c.a.cfg.WriteTimeout))
		c.linger(ws, true)
	case errors.Is(err, errBadChatFrame):
		code = websocket.CloseInvalidPayload
		c.run.log.Warn("websocket: malformed chat frame; closing", "adapter", c.a.cfg.Name, "key", c.key, "err", err)
		c.refuse(code, "malformed chat frame")
		_ = ws.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(code, "malformed chat frame"),
			time.Now().Add(c.a.cfg.WriteTimeout))
		c.linger(ws, true)
	}
	c.mu.Lock()
	if c.code != 0 {
		code = c.code // the server closed first: its code says why
	}
	answer := hungUp && c.state < stClosed
	if !answer {
		c.setStateLocked(stClosed)
	} else if c.timer != nil {
		c.timer.Stop() // no pong can come back
	}
	c.mu.Unlock()
	end := websocket.Disconnect{Code: code, Reason: scope.ReasonClosed}
	if answer {
		c.answerHangUp(ws, end)
		return
	}
	_ = ws.NetConn().Close()
	c.run.in.End(c.key, end)
}

// answerHangUp ends the scope of a client that hung up after the events
// already queued, and closes the socket once their answers are written:
// the scope's end (Adapter.Ended) closes the connection, the close frame
// after what the handlers sent, and the socket is closed when the writer
// has written it. CloseTimeout bounds the wait, from the hang-up, as it
// bounds every other wait for a connection to finish closing: a handler
// still running then, or a client that does not read what is written,
// holds the socket no longer, and what is sent later fails with ErrClosed.
// The read loop waits here, so that the connection stays tracked and a
// shutdown finds it.
func (c *conn) answerHangUp(ws *gorilla.Conn, end websocket.Disconnect) {
	c.run.in.End(c.key, end)
	c.awaitWritten(c.a.cfg.CloseTimeout)
	c.mu.Lock()
	c.setStateLocked(stClosed)
	c.mu.Unlock()
	_ = ws.NetConn().Close()
}

// awaitWritten waits until nothing more will be written on the connection
// (doneWritingLocked), for d at most.
func (c *conn) awaitWritten(d time.Duration) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.doneWritingLocked() {
		if c.written == nil {
			c.written = make(chan struct{})
		}
		written := c.written
		c.mu.Unlock()
		select {
		case <-written:
			c.mu.Lock()
		case <-deadline.C:
			c.mu.Lock()
			return
		}
	}
}

// refuse marks the connection closing with code, dropping what is queued.
func (c *conn) refuse(code int, _ string) {
	c.mu.Lock()
	if c.code == 0 {
		c.code = code
	}
	c.setStateLocked(stClosing)
	c.queue = nil
	c.mu.Unlock()
}

// linger reads and discards what the client still sends, until its close
// frame (when the reader still parses frames), the end of the connection,
// a pause in its input, or the close timeout. Closing a socket with
// unread input makes the kernel reset the connection, which can destroy
// the close frame before the client reads it.
func (c *conn) linger(ws *gorilla.Conn, framed bool) {
	end := time.Now().Add(c.a.cfg.CloseTimeout)
	if framed {
		_ = ws.SetReadDeadline(end)
		for {
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}
	// The reader is stuck in a frame it refused: drain the raw stream until
	// it pauses, which it does once the client has answered the close.
	nc := ws.NetConn()
	buf := make([]byte, 4096)
	for {
		d := time.Now().Add(lingerPause)
		if d.After(end) {
			d = end
		}
		_ = nc.SetReadDeadline(d)
		if _, err := nc.Read(buf); err != nil {
			return
		}
	}
}

// lingerPause is how long a refused client's silence is taken for the end
// of what it had in flight.
const lingerPause = 50 * time.Millisecond
