package websocket

import (
	"bufio"
	"net"
	"net/http"
	"sync"
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

// maxCork bounds the bytes a corked connection buffers before it writes
// them out anyway, so that a batch of large messages does not grow a large
// buffer.
const maxCork = 64 << 10

// corkBufs holds the buffers of corked batches, which live only while one
// batch is written: an idle connection holds none.
var corkBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// corkConn is the socket under a gorilla connection, able to hold back
// writes while the writer drains a batch. gorilla never writes to it from
// two goroutines at once, but the read loop answers pings and close
// frames while the writer drains, so the state has a lock.
type corkConn struct {
	net.Conn

	mu  sync.Mutex
	buf *[]byte // non-nil while corked
}

// Write writes p, or adds it to the batch while corked.
func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.buf == nil {
		c.mu.Unlock()
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
	b := c.buf
	c.buf = nil
	if cap(*b) <= maxCork {
		*b = (*b)[:0]
		corkBufs.Put(b)
	}
	return err
}

func (c *corkConn) writeOutLocked() error {
	if len(*c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(*c.buf)
	*c.buf = (*c.buf)[:0]
	return err
}

// corkingWriter hands gorilla's Upgrade a corkConn when it hijacks the
// request's connection.
type corkingWriter struct {
	http.ResponseWriter
	conn *corkConn // set by Hijack
}

func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: nc}
	return w.conn, brw, nil
}
