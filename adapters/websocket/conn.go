package websocket

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/event/websocket"
	"github.com/switchboard-bots/switchboard/scope"
)

// connState is where a WebSocket connection is in its life.
type connState uint8

const (
	stConnecting connState = iota // the application has not decided yet
	stAccepted                    // accepted; the upgrade is under way
	stOpen                        // upgraded; messages flow
	stClosing                     // a close frame is queued or sent; no more messages
	stClosed                      // the socket is closed or was never opened
	stTaken                       // a mounted http.Handler serves the request
)

// decision is the application's answer to websocket.connect, handed from
// the scope's worker to the request's goroutine, which owns the
// ResponseWriter.
type decision struct {
	accept      bool
	taken       bool // a mounted http.Handler serves the request
	status      int  // for a rejection
	subprotocol string
	headers     http.Header
}

// conn is one WebSocket connection. An open, idle connection holds its
// read loop's goroutine, a small read buffer and a timer, and nothing else:
// outgoing messages wait in a queue that a writer goroutine drains only
// while it is not empty, with a write buffer taken from a shared pool.
type conn struct {
	a     *Adapter
	run   *run
	key   string
	scope *scope.Scope // as first built, to rebuild a stale scope from

	closing atomic.Bool // state >= stClosing, or the scope failed: deliver nothing more
	// flow settles which goroutine ends the scope at shutdown: the read
	// loop sets flowBusy while it delivers, shutdown sets flowStop, and
	// whichever finds the other's bit ends it, so that no message is
	// delivered after the scope's end (it would start a scope of its own).
	flow atomic.Uint32
	// chat is set when the application accepts a client of the chat
	// protocol (ChatSubprotocol), before any message can be sent; nil for
	// every other connection.
	chat atomic.Pointer[chatState]

	mu      sync.Mutex
	state   connState
	decided chan decision // buffered; nil once the handshake is over
	w       http.ResponseWriter
	r       *http.Request // w and r are kept only during the handshake
	ws      *gorilla.Conn
	sock    *corkConn // the socket under ws; nil if gorilla did not hijack a corkConn
	queue   []outMsg
	writing bool          // a writer goroutine drains the queue
	corked  bool          // the scope's worker handles queued events: hold messages back (see Cork)
	room    chan struct{} // closed when the queue gets room; made only when a send waits
	written chan struct{} // closed when nothing more will be written (see awaitWritten); made only when the read loop waits
	code    int           // the close code the server sent or decided on
	timer   *time.Timer
}

// serveWebSocket serves an upgrade request: it asks the application with
// websocket.connect, then upgrades, rejects, or lets a mounted handler
// serve the request.
func (a *Adapter) serveWebSocket(rn *run, w http.ResponseWriter, r *http.Request) {
	if !a.origins.allow(r, a.ownHosts(rn)) {
		rn.log.Warn("websocket: origin not allowed", "adapter", a.cfg.Name,
			"origin", r.Header.Get("Origin"), "host", r.Host, "client", r.RemoteAddr)
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	c := &conn{a: a, run: rn, key: a.newKey('w'), w: w, r: r, decided: make(chan decision, 1)}
	c.scope = a.newScope(TypeWebSocket, r, c)
	if err := rn.in.Deliver(r.Context(), c.key, websocket.Connect{}, c.newScope, nil); err != nil {
		// At max_scopes the new connection is refused, never an open one
		// closed (see ScopeConfig): the client may retry later.
		if errors.Is(err, scope.ErrTooManyScopes) {
			rn.full(a.cfg.Name, err)
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, "server busy", http.StatusServiceUnavailable)
		return
	}
	d, ok := c.await(r)
	if !ok {
		rn.in.End(c.key, websocket.Disconnect{Code: websocket.CloseAbnormal, Reason: scope.ReasonClosed})
		return
	}
	switch {
	case d.taken:
		<-c.decidedDone() // the handler runs on the scope's worker
		rn.in.End(c.key, websocket.Disconnect{Code: websocket.CloseNormal, Reason: scope.ReasonClosed})
	case !d.accept:
		http.Error(w, http.StatusText(d.status), d.status)
		c.forget()
		rn.in.End(c.key, websocket.Disconnect{Code: websocket.CloseAbnormal, Reason: scope.ReasonClosed})
	default:
		c.upgrade(d)
	}
}

// newScope rebuilds the connection's scope. The manager calls it only when
// the key has no live scope: for websocket.connect, or for a message read
// while a failed instance's scope ended (see Adapter.Disconnect), which
// then reaches a new instance.
func (c *conn) newScope() *scope.Scope {
	s := *c.scope
	return &s
}

// await waits for the application's decision, the client to go away, or
// the handshake timeout.
func (c *conn) await(r *http.Request) (decision, bool) {
	t := time.NewTimer(c.a.cfg.HandshakeTimeout)
	defer t.Stop()
	select {
	case d := <-c.decided:
		return d, true
	case <-r.Context().Done():
	case <-t.C:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case d := <-c.decided: // decided while we gave up: honour it
		return d, true
	default:
	}
	if r.Context().Err() == nil {
		c.run.log.Warn("websocket: application did not answer websocket.connect in time",
			"adapter", c.a.cfg.Name, "key", c.key, "timeout", c.a.cfg.HandshakeTimeout)
		http.Error(c.w, "application did not answer", http.StatusServiceUnavailable)
	}
	c.state = stClosed
	c.w, c.r = nil, nil
	return decision{}, false
}

// decidedDone is closed when a mounted handler finished serving the
// request; it reuses the decision channel, which the handler closes.
func (c *conn) decidedDone() <-chan decision { return c.decided }

// forget drops what only the handshake needed.
func (c *conn) forget() {
	c.mu.Lock()
	c.w, c.r = nil, nil
	c.mu.Unlock()
}

// decideLocked hands d to the request's goroutine.
func (c *conn) decideLocked(d decision) {
	c.decided <- d // buffered, and sent at most once: the state changes with it
}

// upgrade completes an accepted handshake and starts the read loop.
func (c *conn) upgrade(d decision) {
	hdr := d.headers
	if hdr == nil {
		hdr = http.Header{}
	}
	if d.subprotocol != "" {
		hdr.Set("Sec-Websocket-Protocol", d.subprotocol)
	}
	c.mu.Lock()
	w, r := c.w, c.r
	c.w, c.r = nil, nil
	c.mu.Unlock()
	// The socket gorilla gets is corkable, so that the writer can send a
	// batch of queued frames in one write (see cork.go).
	cw := &corkingWriter{ResponseWriter: w, slack: c.a.deadlineSlack(), readBuf: c.a.ownReader()}
	ws, err := c.a.upg.Upgrade(cw, r, hdr)
	if err != nil || !c.run.track(c) {
		end := websocket.Disconnect{Code: websocket.CloseAbnormal, Reason: scope.ReasonClosed}
		if ws != nil { // shutdown began during the handshake
			end = websocket.Disconnect{Code: websocket.CloseGoingAway, Reason: scope.ReasonShutdown}
			_ = ws.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(end.Code, string(end.Reason)),
				time.Now().Add(c.a.cfg.WriteTimeout))
			_ = ws.NetConn().Close()
		}
		c.mu.Lock()
		c.state, c.queue = stClosed, nil
		c.mu.Unlock()
		c.run.in.End(c.key, end)
		return
	}
	ws.SetReadLimit(c.a.cfg.ReadLimit)
	if c.a.cfg.Compression {
		ws.EnableWriteCompression(true)
	}
	if iv := c.a.cfg.PingInterval; iv > 0 {
		_ = ws.SetReadDeadline(time.Now().Add(iv + c.a.cfg.PongTimeout))
		ws.SetPongHandler(func(string) error {
			if c.closing.Load() {
				return nil // the close timeout rules now
			}
			return ws.SetReadDeadline(time.Now().Add(iv + c.a.cfg.PongTimeout))
		})
	}
	c.mu.Lock()
	c.ws, c.sock = ws, cw.conn
	c.decided = nil
	switch c.state {
	case stAccepted:
		c.state = stOpen
		if iv := c.a.cfg.PingInterval; iv > 0 {
			c.timer = time.AfterFunc(iv, c.ping)
		}
	case stClosed: // the client was too slow before the upgrade finished
		_ = ws.NetConn().Close()
	}
	c.kickLocked()
	c.mu.Unlock()
	// The read loop runs on a goroutine of its own rather than on this
	// one, so that net/http's per-request state and this goroutine's
	// grown stack are freed while the connection lives.
	go c.readLoop(ws, cw.conn)
}

// shutdown ends the connection's scope with reason shutdown, after what
// it has queued; the scope's end then closes the connection with 1001.
// If the read loop is delivering a message, it ends the scope itself once
// it is done.
func (c *conn) shutdown() {
	if c.flow.Or(flowStop)&flowBusy == 0 {
		c.endShutdown()
	}
}

const (
	flowBusy = 1 << iota // the read loop delivers a message
	flowStop             // shutdown began
)

func (c *conn) endShutdown() {
	c.run.in.End(c.key, websocket.Disconnect{Code: websocket.CloseGoingAway, Reason: scope.ReasonShutdown})
}

// drop closes the socket at once (shutdown deadline).
func (c *conn) drop() {
	c.mu.Lock()
	ws := c.ws
	if c.state < stClosing {
		c.code = websocket.CloseGoingAway
	}
	c.setStateLocked(stClosed)
	c.mu.Unlock()
	if ws != nil {
		_ = ws.NetConn().Close()
	}
}

func (c *conn) setStateLocked(s connState) {
	c.state = s
	if s >= stClosing {
		c.closing.Store(true)
		if c.timer != nil {
			c.timer.Stop()
		}
	}
	if s == stClosed {
		c.queue = nil
		if c.room != nil {
			close(c.room)
			c.room = nil
		}
		c.wroteLocked()
	}
}

// doneWritingLocked reports whether nothing more will be written on c: it
// is closed, or closing with its queue written, the close frame last.
func (c *conn) doneWritingLocked() bool {
	return c.state == stClosed || c.state == stClosing && len(c.queue) == 0 && !c.writing
}

// wroteLocked wakes a read loop waiting in awaitWritten once nothing more
// will be written on c.
func (c *conn) wroteLocked() {
	if c.written != nil && c.doneWritingLocked() {
		close(c.written)
		c.written = nil
	}
}
