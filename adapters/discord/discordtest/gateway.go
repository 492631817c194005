package discordtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway opcodes, as Discord numbers them.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opResume         = 6
	opReconnect      = 7
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatAck   = 11
)

// intentMessageContent is the privileged MESSAGE_CONTENT intent.
const intentMessageContent = 1 << 15

// gatewayState is the Gateway side of the fake, guarded by Server.mu. No
// network I/O happens under that lock: each connection writes from its own
// queue, so a client slow to read holds up nothing else.
type gatewayState struct {
	sessions   map[string]*session
	conns      map[*gwConn]bool
	identifies int
	resumes    int
	replayed   int
	heartbeats int
	closes     []int // close codes the clients sent
	nextSess   int
	noAcks     bool // heartbeats go unanswered
}

func (g *gatewayState) init() {
	g.sessions = map[string]*session{}
	g.conns = map[*gwConn]bool{}
}

// session is a Gateway session: it outlives its connections, and keeps
// every dispatch for a RESUME to replay.
type session struct {
	id      string
	shard   [2]int
	intents int
	seq     int64
	log     []frame
	conn    *gwConn // nil while disconnected
	invalid bool    // closed with 1000/1001, or invalidated: cannot resume
}

type frame struct {
	seq  int64
	data []byte
}

// gwConn is one Gateway connection with its write queue.
type gwConn struct {
	ws     *websocket.Conn
	outbox []outFrame
	wake   chan struct{} // 1-buffered: the outbox has something
	done   chan struct{} // closed when the connection is gone
	sess   *session
	gone   bool
	once   sync.Once
}

type outFrame struct {
	data  []byte
	close int // a close frame with this code, then the end
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveGateway accepts a Gateway connection: HELLO, then the client's
// IDENTIFY or RESUME, heartbeats and what is dispatched to its session.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	held, down := s.outage, s.down
	s.mu.Unlock()
	if down {
		http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
		return
	}
	if held != nil {
		select {
		case <-held:
		case <-r.Context().Done():
			return
		}
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gwConn{ws: ws, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.gw.conns[c] = true
	s.connsDone.Add(2)
	q := r.URL.Query()
	switch {
	case q.Get("v") != "10":
		s.sendLocked(c, outFrame{close: 4012})
	case q.Get("encoding") != "json":
		s.sendLocked(c, outFrame{close: 4002})
	default:
		s.sendLocked(c, outFrame{data: marshal(map[string]any{"op": opHello, "s": nil, "t": nil,
			"d": map[string]any{"heartbeat_interval": s.heartbeat.Milliseconds()}})})
	}
	s.mu.Unlock()
	go s.write(c)
	s.read(c)
}

// read handles what the client sends until the connection ends.
func (s *Server) read(c *gwConn) {
	defer s.connsDone.Done()
	defer c.kill()
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(s.heartbeat * 3 / 2))
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			s.mu.Lock()
			if ce, ok := err.(*websocket.CloseError); ok {
				s.gw.closes = append(s.gw.closes, ce.Code)
				if c.sess != nil && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
					c.sess.invalid = true
				}
			} else if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				// No heartbeat in time: Discord closes a zombie
				// connection with 4009 and the session with it.
				if c.sess != nil {
					c.sess.invalid = true
				}
				s.sendLocked(c, outFrame{close: 4009})
			}
			s.detachLocked(c)
			s.notifyLocked()
			s.mu.Unlock()
			return
		}
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		s.mu.Lock()
		if err := json.Unmarshal(data, &p); err != nil {
			s.sendLocked(c, outFrame{close: 4002})
		} else {
			s.handleLocked(c, p.Op, p.D)
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
}

// handleLocked acts on one payload from the client.
func (s *Server) handleLocked(c *gwConn, op int, d json.RawMessage) {
	switch op {
	case opHeartbeat:
		s.gw.heartbeats++
		if !s.gw.noAcks {
			s.sendLocked(c, outFrame{data: marshal(map[string]any{"op": opHeartbeatAck})})
		}
	case opIdentify:
		var id struct {
			Token   string `json:"token"`
			Intents *int   `json:"intents"`
			Shard   *[2]int
		}
		if json.Unmarshal(d, &id) != nil {
			s.sendLocked(c, outFrame{close: 4002})
			return
		}
		shard := [2]int{0, 1}
		if id.Shard != nil {
			shard = *id.Shard
		}
		switch {
		case c.sess != nil:
			s.sendLocked(c, outFrame{close: 4005})
		case strings.TrimPrefix(id.Token, "Bot ") != s.token:
			s.sendLocked(c, outFrame{close: 4004})
		case id.Intents == nil || *id.Intents < 0 || *id.Intents >= 1<<26:
			s.sendLocked(c, outFrame{close: 4013})
		case shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1]:
			s.sendLocked(c, outFrame{close: 4010})
		default:
			s.gw.identifies++
			s.gw.nextSess++
			sess := &session{id: "fake-session-" + strconv.Itoa(s.gw.nextSess), shard: shard, intents: *id.Intents, conn: c}
			s.gw.sessions[sess.id] = sess
			c.sess = sess
			s.dispatchLocked(sess, "READY", map[string]any{"v": 10, "user": botUser(), "guilds": []any{},
				"session_id": sess.id, "shard": shard, "application": map[string]any{"id": BotID, "flags": 0},
				"resume_gateway_url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/gateway"})
		}
	case opResume:
		var rs struct {
			Token     string `json:"token"`
			SessionID string `json:"session_id"`
			Seq       int64  `json:"seq"`
		}
		if json.Unmarshal(d, &rs) != nil {
			s.sendLocked(c, outFrame{close: 4002})
			return
		}
		if strings.TrimPrefix(rs.Token, "Bot ") != s.token {
			s.sendLocked(c, outFrame{close: 4004})
			return
		}
		sess := s.gw.sessions[rs.SessionID]
		if sess == nil || sess.invalid || c.sess != nil {
			s.sendLocked(c, outFrame{data: marshal(map[string]any{"op": opInvalidSession, "d": false})})
			return
		}
		if old := sess.conn; old != nil {
			s.sendLocked(old, outFrame{close: 4000})
			old.sess = nil
		}
		s.gw.resumes++
		sess.conn, c.sess = c, sess
		for _, f := range sess.log {
			if f.seq > rs.Seq {
				s.gw.replayed++
				s.sendLocked(c, outFrame{data: f.data})
			}
		}
		s.dispatchLocked(sess, "RESUMED", map[string]any{})
	default:
		if c.sess == nil {
			s.sendLocked(c, outFrame{close: 4003})
			return
		}
		s.sendLocked(c, outFrame{close: 4001})
	}
}

// dispatchLocked gives sess its next dispatch, sent now if connected and
// kept for a RESUME to replay.
func (s *Server) dispatchLocked(sess *session, t string, d any) {
	sess.seq++
	data := marshal(map[string]any{"op": opDispatch, "s": sess.seq, "t": t, "d": d})
	sess.log = append(sess.log, frame{seq: sess.seq, data: data})
	if sess.conn != nil {
		s.sendLocked(sess.conn, outFrame{data: data})
	}
}

// sendLocked queues f on c.
func (s *Server) sendLocked(c *gwConn, f outFrame) {
	if c.gone {
		return
	}
	c.outbox = append(c.outbox, f)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// write writes c's queue until the connection ends.
func (s *Server) write(c *gwConn) {
	defer s.connsDone.Done()
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		s.mu.Lock()
		out := c.outbox
		c.outbox = nil
		s.mu.Unlock()
		for _, f := range out {
			_ = c.ws.SetWriteDeadline(time.Now().Add(Timeout))
			if f.close != 0 {
				_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(f.close, closeReason(f.close)))
				s.mu.Lock()
				s.detachLocked(c)
				s.mu.Unlock()
				c.kill()
				return
			}
			if c.ws.WriteMessage(websocket.TextMessage, f.data) != nil {
				c.kill()
				return
			}
		}
	}
}

// detachLocked forgets c: its session, if any, waits for a RESUME.
func (s *Server) detachLocked(c *gwConn) {
	c.gone = true
	delete(s.gw.conns, c)
	if c.sess != nil && c.sess.conn == c {
		c.sess.conn = nil
	}
}

// dropAllLocked detaches every connection and returns them, to be killed
// outside the lock.
func (g *gatewayState) dropAllLocked() []*gwConn {
	var out []*gwConn
	for c := range g.conns {
		c.gone = true
		if c.sess != nil && c.sess.conn == c {
			c.sess.conn = nil
		}
		out = append(out, c)
	}
	clear(g.conns)
	return out
}

// kill closes the connection without a close frame, as a network failure
// does.
func (c *gwConn) kill() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.UnderlyingConn().Close()
	})
}

func closeReason(code int) string {
	return map[int]string{4000: "Unknown error", 4001: "Unknown opcode", 4002: "Decode error",
		4003: "Not authenticated", 4004: "Authentication failed", 4005: "Already authenticated",
		4009: "Session timed out", 4010: "Invalid shard", 4012: "Invalid API version",
		4013: "Invalid intent(s)"}[code]
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
