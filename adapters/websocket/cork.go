package websocket

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// Writing what is queued together.
//
// gorilla writes every message, and every control frame, to the socket
// with a write of its own: a connection that receives a burst of group
// messages would pay one system call per message. While the writer drains
// a queue of several messages it corks the socket instead: the frames
// gorilla writes collect in one buffer, each still a WebSocket frame of
// its own, and leave in a single write when the batch is done (or when
// the buffer reaches maxCork). A message written at once on the sender's
// goroutine, with nothing queued, goes straight to the socket.
//
// Text and binary messages, unless compression is on, are framed here
// rather than by gorilla's writer (see writeFrame): a server's frame is a
// header and the payload as it is, and gorilla's path adds a lock handed
// over a channel, a pooled buffer boxed anew for every message, and a
// deadline set on the socket every time.

// maxCork bounds the bytes a corked connection buffers before it writes
// them out anyway, so that a batch of large messages does not grow a large
// buffer.
const maxCork = 64 << 10

// corkBufs holds the buffers of corked batches, which live only while one
// batch is written: an idle connection holds none.
// A frame written at once that fits one is copied into it with its header.
var corkBufs = sync.Pool{New: func() any { b := make([]byte, 0, corkBufSize); return &b }}

// corkBufSize is the capacity of a pooled cork buffer.
const corkBufSize = 8 << 10

// corkConn is the socket under a gorilla connection, able to hold back
// writes while the writer drains a batch. gorilla never writes to it from
// two goroutines at once, but the read loop answers pings and close
// frames while the writer drains, so the state has a lock.
type corkConn struct {
	net.Conn
	idleReader
	// slack is how much later than asked a write deadline may fall, so
	// that the socket's deadline, a runtime timer, moves once in a while
	// rather than for every message.
	slack time.Duration

	mu        sync.Mutex
	buf       *[]byte   // non-nil while corked
	wd        time.Time // the write deadline set on Conn; zero: none
	closeSent bool      // a close frame was written: no data frame may follow

	// try is the non-blocking write of tryWrite, made on its first use;
	// nil while unused, and for a Conn without a file descriptor (TLS).
	try *tryWriter
	// pending is what a non-blocking write left of its frame: the next
	// bytes of the stream, which every write sends before its own, so
	// that nothing gets inside the frame.
	pending []byte
}

// tryWriter writes to a socket without waiting: one write system call
// that takes what the socket buffer has room for. Its fields carry the
// call's arguments and results, so that the function handed to the
// runtime is made once per connection rather than once per write.
type tryWriter struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool
	p   []byte
	n   int
	err error
}

// opClose is the first byte of a close frame (FIN and opcode 8).
const opClose = 0x88

// Write writes p, or adds it to the batch while corked. gorilla writes a
// control frame or a prepared message with one Write, starting with the
// frame's first byte, and, while writeFrame frames the messages, nothing
// else: a Write that starts a close frame is one (see writeFrame).
func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if len(p) > 0 && p[0] == opClose {
		c.closeSent = true
	}
	if c.buf == nil {
		if c.pending == nil {
			c.mu.Unlock()
			return c.Conn.Write(p)
		}
		defer c.mu.Unlock()
		if err := c.flushPendingLocked(); err != nil {
			return 0, err
		}
		return c.Conn.Write(p)
	}
	defer c.mu.Unlock()
	*c.buf = append(*c.buf, p...)
	if len(*c.buf) >= maxCork {
		if err := c.writeOutLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Frame opcodes with the FIN bit: a message in one frame.
const (
	frameText   = 0x81
	frameBinary = 0x82
)

// maxFrameHeader is the longest header of a server's frame: two bytes and
// an eight-byte length.
const maxFrameHeader = 10

// errCloseSent: a data frame after the close frame, which RFC 6455 forbids.
var errCloseSent = errors.New("websocket: close frame sent")

// writeFrame writes payload as one unmasked, uncompressed frame (op is
// frameText or frameBinary), with the write deadline at least deadline,
// or adds it to the batch while corked. The frame goes out with one Write
// when it fits a pooled buffer, else as the header and the payload with
// the lock held between them, so that no control frame gets in between.
func (c *corkConn) writeFrame(op byte, payload []byte, deadline time.Time) error {
	var hdr [maxFrameHeader]byte
	h := frameHeader(hdr[:0], op, len(payload))
	c.mu.Lock()
	defer c.mu.Unlock()
	if done, err := c.beginLocked(deadline, h, payload); done || err != nil {
		return err
	}
	// The header is copied into a pooled buffer either way, so that it
	// stays on the stack.
	b := corkBufs.Get().(*[]byte)
	defer putCorkBuf(b)
	*b = append((*b)[:0], h...)
	if len(h)+len(payload) <= corkBufSize {
		*b = append(*b, payload...)
		_, err := c.Conn.Write(*b)
		return err
	}
	if _, err := c.Conn.Write(*b); err != nil {
		return err
	}
	_, err := c.Conn.Write(payload)
	return err
}

// beginLocked readies a write of head and body, a frame: it refuses once
// the close frame went, moves the deadline, and while corked adds the
// frame to the batch (done), else writes out what was pending before.
func (c *corkConn) beginLocked(deadline time.Time, head, body []byte) (done bool, err error) {
	if c.closeSent {
		return true, errCloseSent
	}
	if err := c.setWriteDeadlineLocked(deadline); err != nil {
		return true, err
	}
	if c.buf != nil {
		*c.buf = append(append(*c.buf, head...), body...)
		if len(*c.buf) >= maxCork {
			return true, c.writeOutLocked()
		}
		return true, nil
	}
	return false, c.flushPendingLocked()
}

// writeRaw writes frame, a whole frame built beforehand, as writeFrame
// writes the one it builds.
func (c *corkConn) writeRaw(frame []byte, deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if done, err := c.beginLocked(deadline, frame, nil); done || err != nil {
		return err
	}
	_, err := c.Conn.Write(frame)
	return err
}

// frameHeader appends the header of a server's final frame of n bytes.
func frameHeader(b []byte, op byte, n int) []byte {
	switch {
	case n < 126:
		return append(b, op, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, op, 126), uint16(n))
	}
	return binary.BigEndian.AppendUint64(append(b, op, 127), uint64(n))
}

// SetWriteDeadline sets a write deadline no earlier than t and at most
// slack later (see setWriteDeadlineLocked); gorilla calls it before each
// of its writes.
func (c *corkConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setWriteDeadlineLocked(t)
}

// SetDeadline sets both deadlines as asked.
func (c *corkConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wd = t
	return c.Conn.SetDeadline(t)
}

// setWriteDeadlineLocked keeps the socket's write deadline when it falls
// from t to t+slack, and else moves it to t+slack: a stream of writes,
// each asking for now+timeout, moves it once per slack rather than once
// per write, and a write never times out before it was asked to.
func (c *corkConn) setWriteDeadlineLocked(t time.Time) error {
	if t.IsZero() {
		if c.wd.IsZero() {
			return nil
		}
		c.wd = t
		return c.Conn.SetWriteDeadline(t)
	}
	if !c.wd.IsZero() && !c.wd.Before(t) && c.wd.Sub(t) <= c.slack {
		return nil
	}
	c.wd = t.Add(c.slack)
	return c.Conn.SetWriteDeadline(c.wd)
}

// cork holds back writes until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	if c.buf == nil {
		c.buf = corkBufs.Get().(*[]byte)
	}
	c.mu.Unlock()
}

// uncork writes what was held back, in one write, and lets later writes
// through.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return nil
	}
	err := c.writeOutLocked()
	putCorkBuf(c.buf)
	c.buf = nil
	return err
}

// putCorkBuf empties b and pools it, unless it grew past maxCork.
func putCorkBuf(b *[]byte) {
	if cap(*b) <= maxCork {
		*b = (*b)[:0]
		corkBufs.Put(b)
	}
}

func (c *corkConn) writeOutLocked() error {
	if err := c.flushPendingLocked(); err != nil {
		return err
	}
	if len(*c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(*c.buf)
	*c.buf = (*c.buf)[:0]
	return err
}

// tryWrite writes frame, whole frames, with the write deadline at least
// deadline, as far as the socket takes it without waiting, and keeps the
// rest as pending (a copy unless stable, when frame is not reused): it
// reports whether the frame went out whole. A frame
// left pending goes out before the next write, which flushPending makes
// if nothing else comes. ok is false with no error, and nothing written,
// when the socket cannot be written without waiting (no descriptor, or
// bytes already pending): the caller queues the frame for the writer.
func (c *corkConn) tryWrite(frame []byte, stable bool, deadline time.Time) (whole, ok bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return false, true, errCloseSent
	}
	if c.buf != nil || c.pending != nil {
		return false, false, nil
	}
	if c.try == nil {
		rc := c.raw // the read loop's, when it has one
		if rc == nil {
			sc, isSys := c.Conn.(syscall.Conn)
			if !isSys {
				return false, false, nil
			}
			var err error
			if rc, err = sc.SyscallConn(); err != nil {
				return false, false, nil
			}
		}
		t := &tryWriter{rc: rc}
		t.fn = func(fd uintptr) bool {
			t.n, t.err = syscall.Write(int(fd), t.p)
			return true // never wait for the socket to take more
		}
		c.try = t
	}
	// The deadline is set even though this write does not wait: an expired
	// one fails it, and the write of what is left waits no longer.
	if err := c.setWriteDeadlineLocked(deadline); err != nil {
		return false, true, err
	}
	t := c.try
	t.p = frame
	err = t.rc.Write(t.fn)
	n, werr := t.n, t.err
	t.p, t.n, t.err = nil, 0, nil
	if err != nil {
		return false, true, err
	}
	switch {
	case werr == nil:
	case errors.Is(werr, syscall.EAGAIN), errors.Is(werr, syscall.EINTR):
		n = 0
	default:
		return false, true, &net.OpError{Op: "write", Net: "tcp", Err: werr}
	}
	if n == len(frame) {
		return true, true, nil
	}
	c.pending = frame[n:]
	if !stable {
		c.pending = append([]byte(nil), c.pending...)
	}
	return false, true, nil
}

// flushPending writes what tryWrite left, waiting for the socket up to
// the write deadline, at least deadline.
func (c *corkConn) flushPending(deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		return nil
	}
	if err := c.setWriteDeadlineLocked(deadline); err != nil {
		return err
	}
	return c.flushPendingLocked()
}

// flushPendingLocked writes what tryWrite left, if anything, before any
// other byte.
func (c *corkConn) flushPendingLocked() error {
	if c.pending == nil {
		return nil
	}
	p := c.pending
	c.pending = nil
	_, err := c.Conn.Write(p)
	return err
}

// corkingWriter hands gorilla's Upgrade a corkConn when it hijacks the
// request's connection.
type corkingWriter struct {
	http.ResponseWriter
	slack   time.Duration // the corkConn's
	readBuf int           // the size of the reader gorilla is to take over; 0: none
	conn    *corkConn     // set by Hijack
}

// Hijack hijacks the request's connection as a corkConn. Unless the
// client sent more than the request (which gorilla refuses), the reader
// it returns is the corkConn's own, of size readBuf, which gorilla takes
// over (see Adapter.New), so that awaitInput can fill it.
func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: nc, slack: w.slack}
	if w.readBuf > readerOver && brw.Reader.Buffered() == 0 {
		brw = bufio.NewReadWriter(w.conn.newReader(w.readBuf), brw.Writer)
	}
	return w.conn, brw, nil
}
