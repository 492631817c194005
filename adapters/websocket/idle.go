package websocket

import (
	"bufio"
	"errors"
	"io"
	"os"
	"syscall"
)

// Waiting for input a few frames deep.
//
// An idle connection's read loop is parked until the client sends. If it
// waited inside gorilla's NextReader, its stack would hold gorilla's
// frame parser, bufio and net's read path beneath the read loop, about
// 2 KiB, and a collection halves a goroutine's stack only while it uses
// less than a quarter of it (the runtime counts 800 bytes of guard space
// as used): every idle connection would keep the 8 KiB its handlers grew.
// So between messages the read loop waits here instead, through the
// socket's syscall.RawConn, about 500 bytes deep: its stack shrinks to
// 4 KiB within two collections, as small as any goroutine parked on a
// socket gets.
//
// The wait reads what the socket has straight into the connection's
// bufio.Reader, which gorilla reads frames from, so that it costs no
// system call more than gorilla's own read: one that finds nothing
// (EAGAIN) and one after the socket became readable.

// readerOver bounds from below the size of a bufio.Reader that gorilla's
// Upgrade takes over from the hijacked connection, rather than making its
// own, when Upgrader.ReadBufferSize is 0. Were it to make its own, what
// awaitInput reads would be lost: every echo test would fail.
const readerOver = 256

// errWouldBlock is what corkConn.Read returns when a read inside
// awaitInput finds no input: bufio.Reader hands it back and forgets it.
var errWouldBlock = errors.New("websocket: no input yet")

// idleReader is a corkConn's part for waiting for input.
type idleReader struct {
	br      *bufio.Reader      // gorilla's reader, when it took over this one
	raw     syscall.RawConn    // the socket's, for awaitInput; nil when it has none
	fill    func(uintptr) bool // c.fillFrom, made once
	fd      int                // the descriptor, while fillFrom reads (rawing)
	rawing  bool
	readErr error // what a read inside awaitInput met, for the next Read
}

// newReader returns the bufio.Reader of size gorilla is to read frames
// from, and prepares awaitInput when the socket has a syscall.RawConn.
func (c *corkConn) newReader(size int) *bufio.Reader {
	c.br = bufio.NewReaderSize(c, size)
	if sc, ok := c.Conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
			c.fill = c.fillFrom
		}
	}
	return c.br
}

// Read reads from the socket: inside awaitInput without waiting, after it
// met an error that error. Only the read loop reads.
func (c *corkConn) Read(p []byte) (int, error) {
	switch {
	case c.rawing:
		return readRaw(c.fd, p)
	case c.readErr != nil:
		return 0, c.readErr
	}
	return c.Conn.Read(p)
}

// awaitInput returns once the connection has input, or a read would fail.
// An error of the wait itself (a deadline, a closed socket) is left to
// gorilla's next read, which meets it too.
func (c *corkConn) awaitInput() {
	if c == nil || c.raw == nil || c.readErr != nil || c.br.Buffered() > 0 {
		return
	}
	_ = c.raw.Read(c.fill)
}

// fillFrom reads what socket fd has into br without waiting, and reports
// whether there was anything (or an error) to read.
func (c *corkConn) fillFrom(fd uintptr) bool {
	c.fd, c.rawing = int(fd), true
	_, err := c.br.Peek(1)
	c.rawing = false
	switch {
	case err == nil:
		return true
	case err == errWouldBlock:
		return false
	}
	c.readErr = err
	return true
}

// readRaw is one read of the socket's descriptor, which is non-blocking.
func readRaw(fd int, p []byte) (int, error) {
	for {
		n, err := syscall.Read(fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, errWouldBlock
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
