package websocket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
	"unsafe"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// outMsg is one queued outgoing message or control frame.
type outMsg struct {
	kind   uint8
	text   string
	data   []byte
	pm     *gorilla.PreparedMessage
	code   int // for a close frame
	reason string
}

const (
	outText uint8 = iota
	outBinary
	outPrepared
	outFrame // data is a whole uncompressed frame (Broadcast.frame)
	outFlush // what a write without waiting left (corkConn.pending)
	outPing
	outClose
)

// accept records the application's acceptance for the handshake.
func (c *conn) accept(ev websocket.Accept) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.state {
	case stConnecting:
	case stClosed, stTaken:
		return ErrClosed
	default:
		return ErrAccepted
	}
	var hdr http.Header
	if len(ev.Headers) > 0 {
		hdr = make(http.Header, len(ev.Headers))
		for k, vs := range ev.Headers {
			hdr[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
		}
	}
	c.state = stAccepted
	c.decideLocked(decision{accept: true, subprotocol: ev.Subprotocol, headers: hdr})
	return nil
}

// close closes the connection with code after the messages already queued,
// or rejects it with 403 before it was accepted. Closing twice is allowed.
func (c *conn) close(code int, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, reason, http.StatusForbidden)
	return nil
}

// closeLocked closes an accepted connection with code, or rejects one not
// accepted yet with status.
func (c *conn) closeLocked(code int, reason string, status int) {
	if code == 0 {
		code = websocket.CloseNormal
	}
	if len(reason) > 123 { // a close frame's payload is at most 125 bytes
		reason = reason[:123]
	}
	switch c.state {
	case stConnecting:
		c.state = stClosed
		c.decideLocked(decision{status: status})
	case stAccepted, stOpen:
		c.code = code
		c.queue = append(c.queue, outMsg{kind: outClose, code: code, reason: reason})
		c.setStateLocked(stClosing)
		c.kickLocked()
	}
}

// enqueue queues m. While the queue is full it waits for room, up to
// SendTimeout: a client that cannot take the messages in that time reads
// too slowly, and it is disconnected with 1013, so that its consumer waits
// no longer and nobody else ever waits for it.
func (c *conn) enqueue(ctx context.Context, m *outMsg) error {
	c.mu.Lock()
	if c.canWriteNowLocked() {
		// The common case, kept apart from the waiting below so that its
		// stack frame stays small: thousands of connections each run it
		// on a stack of their own, which is seldom in cache.
		err := c.writeNowLocked(m)
		c.mu.Unlock()
		return err
	}
	defer c.mu.Unlock()
	return c.enqueueLocked(ctx, m)
}

// sendableLocked says why nothing can be sent on c now, or nil: before
// the accept, and once closed (as too slow, or otherwise).
func (c *conn) sendableLocked() error {
	switch c.state {
	case stConnecting:
		return ErrNotAccepted
	case stAccepted, stOpen:
		return nil
	}
	if c.code == websocket.CloseTryAgainLater {
		return ErrSlowClient
	}
	return ErrClosed
}

// enqueueLocked is enqueue when the message cannot be written at once.
func (c *conn) enqueueLocked(ctx context.Context, m *outMsg) error {
	var timer *time.Timer
	for {
		if err := c.sendableLocked(); err != nil {
			return err
		}
		if len(c.queue) < c.a.cfg.SendQueue {
			break
		}
		if timer == nil {
			timer = time.NewTimer(c.a.cfg.SendTimeout)
			defer timer.Stop()
		}
		if c.room == nil {
			c.room = make(chan struct{})
		}
		room := c.room
		c.mu.Unlock()
		select {
		case <-room:
			c.mu.Lock()
			continue
		case <-ctx.Done():
			c.mu.Lock()
			return ctx.Err()
		case <-timer.C:
			c.mu.Lock()
		}
		if len(c.queue) < c.a.cfg.SendQueue || c.state > stOpen {
			continue
		}
		c.code = websocket.CloseTryAgainLater
		c.setStateLocked(stClosed)
		c.run.log.Warn("websocket: client reads too slowly; disconnecting", "adapter", c.a.cfg.Name,
			"key", c.key, "send_queue", c.a.cfg.SendQueue, "send_timeout", c.a.cfg.SendTimeout)
		if c.ws != nil {
			// The writer is stuck in a write the client does not read, so
			// no close frame can follow it: the socket is closed, which
			// also ends the read loop and with it the scope, with 1013.
			_ = c.ws.NetConn().Close()
		}
		return fmt.Errorf("%w (send_queue %d full for %v)", ErrSlowClient, c.a.cfg.SendQueue, c.a.cfg.SendTimeout)
	}
	if c.canWriteNowLocked() {
		return c.writeNowLocked(m)
	}
	c.queue = append(c.queue, *m)
	c.kickLocked()
	return nil
}

// canWriteNowLocked reports whether a message may skip the queue: the
// connection is open, nothing is queued, no writer runs and the scope is
// not corked.
func (c *conn) canWriteNowLocked() bool {
	return c.state == stOpen && len(c.queue) == 0 && !c.writing && !c.corked
}

// corkLimit is how many messages a corked connection holds back before it
// writes them anyway: a handler that sends a lot must neither wait for
// room in its own queue nor build a large batch.
func (c *conn) corkLimit() int { return max(1, min(64, c.a.cfg.SendQueue/2)) }

var _ scope.Corker = (*Adapter)(nil)

// Cork implements scope.Corker: while the scope's worker handles events
// that were queued together, what its handlers send waits in the queue,
// up to corkLimit messages, and Uncork writes it as one batch, in one
// system call.
func (a *Adapter) Cork(s *scope.Scope) {
	if c, ok := s.AdapterValue().(*conn); ok {
		c.mu.Lock()
		c.corked = true
		c.mu.Unlock()
	}
}

// Uncork implements scope.Corker.
func (a *Adapter) Uncork(s *scope.Scope) {
	if c, ok := s.AdapterValue().(*conn); ok {
		c.mu.Lock()
		c.corked = false
		c.kickLocked()
		c.mu.Unlock()
	}
}

// writeNowLocked writes m on the sender's goroutine: with nothing queued
// and no writer running, a handoff to a writer goroutine would only add
// latency. The write may wait for a client whose socket buffers are full,
// for SendTimeout at most, like a send to a full queue: then the client is
// too slow and is disconnected with 1013.
func (c *conn) writeNowLocked(m *outMsg) error {
	c.writing = true
	ws := c.ws
	c.mu.Unlock()
	err := c.write(ws, m, c.a.cfg.SendTimeout)
	c.mu.Lock()
	c.writing = false
	if err == nil {
		c.kickLocked() // what was queued meanwhile
		c.wroteLocked()
		return nil
	}
	return c.writeFailedLocked(ws, err)
}

// writeFailedLocked closes the connection after a failed write and says
// why in the error it returns.
func (c *conn) writeFailedLocked(ws *gorilla.Conn, err error) error {
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() && c.state == stOpen {
		c.code = websocket.CloseTryAgainLater
		c.run.log.Warn("websocket: client reads too slowly; disconnecting", "adapter", c.a.cfg.Name,
			"key", c.key, "send_timeout", c.a.cfg.SendTimeout)
		err = fmt.Errorf("%w (a write waited %v)", ErrSlowClient, c.a.cfg.SendTimeout)
	} else {
		err = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	c.setStateLocked(stClosed)
	// The read loop sees the closed socket and ends the scope.
	_ = ws.NetConn().Close()
	return err
}

// kickLocked starts the writer if there is something to write and the
// socket is ready. The writer exits when the queue is empty, so an idle
// connection has none.
func (c *conn) kickLocked() {
	if c.writing || len(c.queue) == 0 || c.ws == nil || c.state == stClosed {
		return
	}
	if c.corked && len(c.queue) < c.corkLimit() && c.state == stOpen {
		return // Uncork writes the batch
	}
	c.writing = true
	go c.drain(c.ws)
}

// drain writes queued messages until the queue is empty. It takes the
// whole queue at once and writes it corked, so that the frames of a batch
// leave in one system call; a sender waiting for room gets all of it.
func (c *conn) drain(ws *gorilla.Conn) {
	cc := c.sock
	var batch []outMsg
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.state == stClosed {
			c.writing = false
			c.queue = nil // an idle connection keeps no queue
			c.wroteLocked()
			c.mu.Unlock()
			return
		}
		// The drained batch's array becomes the next queue, so that a
		// steady stream of messages reuses two arrays.
		batch, c.queue = c.queue, batch[:0]
		if c.room != nil {
			close(c.room) // a send waits for room
			c.room = nil
		}
		c.mu.Unlock()
		err := c.writeBatch(ws, cc, batch)
		clear(batch)
		if err != nil {
			c.mu.Lock()
			c.writing = false
			if c.state != stClosed {
				c.run.log.Debug("websocket: write failed", "adapter", c.a.cfg.Name, "key", c.key, "err", err)
			}
			c.setStateLocked(stClosed)
			c.mu.Unlock()
			// The read loop sees the closed socket and ends the scope.
			_ = ws.NetConn().Close()
			return
		}
	}
}

// writeBatch writes batch, corked when it holds more than one message.
func (c *conn) writeBatch(ws *gorilla.Conn, cc *corkConn, batch []outMsg) error {
	if len(batch) == 1 || cc == nil {
		for i := range batch {
			if err := c.write(ws, &batch[i], c.a.cfg.WriteTimeout); err != nil {
				return err
			}
		}
		return nil
	}
	cc.cork()
	for i := range batch {
		if err := c.write(ws, &batch[i], c.a.cfg.WriteTimeout); err != nil {
			_ = cc.uncork()
			return err
		}
	}
	// The deadline of the last frame, set by gorilla, bounds the write.
	return cc.uncork()
}

func (c *conn) write(ws *gorilla.Conn, m *outMsg, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	switch m.kind {
	case outPing:
		return ws.WriteControl(gorilla.PingMessage, nil, deadline)
	case outClose:
		err := ws.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(m.code, m.reason), deadline)
		// The read loop now waits for the client's close frame, but no
		// longer than the close timeout.
		_ = ws.SetReadDeadline(time.Now().Add(c.a.cfg.CloseTimeout))
		return err
	}
	// The frame is only read (a server's frames are not masked, and the
	// write returns before the string could go away), so the text is
	// passed without a copy.
	text := unsafe.Slice(unsafe.StringData(m.text), len(m.text))
	if sock := c.sock; sock != nil {
		switch m.kind {
		case outFrame:
			return sock.writeRaw(m.data, deadline)
		case outFlush:
			return sock.flushPending(deadline)
		}
	}
	if sock := c.sock; sock != nil && !c.a.cfg.Compression {
		switch m.kind {
		case outText:
			return sock.writeFrame(frameText, text, deadline)
		case outBinary:
			return sock.writeFrame(frameBinary, m.data, deadline)
		}
	}
	if err := ws.SetWriteDeadline(deadline); err != nil {
		return err
	}
	switch m.kind {
	case outPrepared:
		return ws.WritePreparedMessage(m.pm)
	case outBinary:
		return ws.WriteMessage(gorilla.BinaryMessage, m.data)
	}
	// WriteMessage frames a message straight into the write buffer, where
	// NextWriter allocates a writer per message.
	return ws.WriteMessage(gorilla.TextMessage, text)
}

// TrySend sends b on the connection of s, a scope of this package's
// adapter, without ever waiting, so that code which must not block, such
// as a channel layer's receiver handing a group message to the local
// members of a room, can write to many connections from one goroutine.
//
// With nothing queued for the connection and compression off, the frame
// goes to the socket at once, in one write system call that takes what
// the socket buffer has room for; what it does not take, and a frame
// that cannot go at once, waits in the connection's queue behind the
// messages already there, in order with Send, for the writer goroutine.
// A connection whose queue is full (SendQueue) has a client that reads
// too slowly: since TrySend cannot wait for room, the connection is
// closed at once with 1013 and TrySend returns an error wrapping
// ErrSlowClient. Before the application accepted the connection it
// returns ErrNotAccepted; after the close, ErrClosed. A scope of another
// adapter (see CanTrySend) gets ErrForeignScope.
func TrySend(s *scope.Scope, b *Broadcast) error {
	c, err := connOf(s)
	if err != nil {
		return err
	}
	return c.trySend(b)
}

// CanTrySend reports whether s is the scope of a WebSocket connection of
// this package's adapter, which TrySend can write to.
func CanTrySend(s *scope.Scope) bool {
	_, err := connOf(s)
	return err == nil
}

// connOf returns the connection of s, a scope of this package's adapter.
func connOf(s *scope.Scope) (*conn, error) {
	c, ok := s.AdapterValue().(*conn)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrForeignScope, s)
	}
	return c, nil
}

// TrySendAll sends bs, in order, on the connection of s as TrySend sends
// each, but with nothing queued and compression off, their frames go to
// the socket together, in one write system call: a caller that has
// several messages for a connection at once, as a writer that fell
// behind its room has, pays one call for them.
func TrySendAll(s *scope.Scope, bs ...*Broadcast) error {
	c, err := connOf(s)
	if err != nil {
		return err
	}
	if len(bs) > 1 && !c.a.cfg.Compression {
		c.mu.Lock()
		if c.canWriteNowLocked() && c.sock != nil {
			defer c.mu.Unlock()
			buf := corkBufs.Get().(*[]byte)
			defer putCorkBuf(buf)
			for _, b := range bs {
				*buf = append(*buf, b.frame()...)
			}
			// The rest of a write cut short is copied: the buffer goes
			// back to its pool.
			return c.tryWriteLocked(*buf, false)
		}
		c.mu.Unlock()
	}
	for _, b := range bs {
		if err := c.trySend(b); err != nil {
			return err
		}
	}
	return nil
}

func (c *conn) trySend(b *Broadcast) error {
	var m outMsg
	if c.a.cfg.Compression {
		pm, err := b.prepared()
		if err != nil {
			return err
		}
		m.kind, m.pm = outPrepared, pm
	} else {
		m.kind, m.data = outFrame, b.frame()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.kind == outFrame && c.canWriteNowLocked() && c.sock != nil {
		return c.tryWriteLocked(m.data, true)
	}
	return c.tryQueueLocked(m)
}

// tryWriteLocked writes frames, whole uncompressed frames, to the socket
// without waiting, with nothing queued and no writer running; a frame the
// socket takes only in part leaves the rest to the writer. stable says
// frames stays as it is (see corkConn.tryWrite).
func (c *conn) tryWriteLocked(frames []byte, stable bool) error {
	whole, ok, err := c.sock.tryWrite(frames, stable, time.Now().Add(c.a.cfg.WriteTimeout))
	switch {
	case err != nil:
		return c.writeFailedLocked(c.ws, err)
	case whole:
		return nil
	case ok:
		// The rest of the frames is the socket's next bytes: the writer
		// sends it, waiting as long as WriteTimeout allows.
		return c.tryQueueLocked(outMsg{kind: outFlush})
	}
	// The socket cannot be written without waiting (no descriptor).
	if !stable {
		frames = append([]byte(nil), frames...)
	}
	return c.tryQueueLocked(outMsg{kind: outFrame, data: frames})
}

// tryQueueLocked queues m for the writer, or, with the queue full,
// disconnects the client as too slow: a sender that must not wait cannot
// wait for room.
func (c *conn) tryQueueLocked(m outMsg) error {
	if err := c.sendableLocked(); err != nil {
		return err
	}
	if len(c.queue) >= c.a.cfg.SendQueue {
		c.code = websocket.CloseTryAgainLater
		c.setStateLocked(stClosed)
		c.run.log.Warn("websocket: client reads too slowly; disconnecting", "adapter", c.a.cfg.Name,
			"key", c.key, "send_queue", c.a.cfg.SendQueue)
		if c.ws != nil {
			// As in enqueueLocked: the writer may be stuck in a write the
			// client does not read; closing the socket ends it and the
			// read loop, and with it the scope, with 1013.
			_ = c.ws.NetConn().Close()
		}
		return fmt.Errorf("%w (send_queue %d full)", ErrSlowClient, c.a.cfg.SendQueue)
	}
	c.queue = append(c.queue, m)
	c.kickLocked()
	return nil
}

// ping queues a keepalive ping and schedules the next. A full queue skips
// the ping: the slow-client rule or the pong deadline deals with the peer.
func (c *conn) ping() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stOpen {
		return
	}
	if len(c.queue) < c.a.cfg.SendQueue {
		c.queue = append(c.queue, outMsg{kind: outPing})
		c.kickLocked()
	}
	c.timer.Reset(c.a.cfg.PingInterval)
}
