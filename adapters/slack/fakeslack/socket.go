package fakeslack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// socketState is the Socket Mode side of the fake. Its fields are guarded
// by Server.mu; no network I/O happens under that lock, so a client slow to
// read never stops acknowledgements from being recorded.
type socketState struct {
	conns    []*wsConn // open connections, newest last
	connects int
	origins  []string // the Origin header of each connection
	envs     []*envelope
	byID     map[string]*envelope
	acks     []Ack
	seq      int
	next     int            // with Options.Spread: the connection the next envelope goes to, modulo
	wg       sync.WaitGroup // connection goroutines
}

func (st *socketState) init() { st.byID = map[string]*envelope{} }

// envelope is one pushed envelope and its fate.
type envelope struct {
	id      string
	typ     string
	payload json.RawMessage
	sends   int // how many times it was written
	acked   bool
	on      *wsConn // with Options.Spread: the connection it was last written to; nil: none yet
}

// Ack is one acknowledgement the client sent.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage
}

// wsConn is one Socket Mode connection with its write queue.
type wsConn struct {
	c        *websocket.Conn
	outbox   [][]byte
	wake     chan struct{} // 1-buffered: the outbox has something
	done     chan struct{} // closed when the connection ends
	retiring bool          // told to disconnect: gets no new envelopes
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveSocket accepts a Socket Mode connection: hello, then every envelope
// not acknowledged yet, then what is pushed while it is the newest
// connection.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	wc := &wsConn{c: c, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.mu.Lock()
	st := &s.sock
	st.connects++
	st.origins = append(st.origins, r.Header.Get("Origin"))
	hello, _ := json.Marshal(map[string]any{"type": "hello", "num_connections": len(st.conns) + 1,
		"connection_info": map[string]any{"app_id": AppID},
		"debug_info":      map[string]any{"host": "fakeslack", "approximate_connection_time": 3600}})
	wc.outbox = append(wc.outbox, hello)
	for _, e := range st.envs {
		if !e.acked && (!s.opts.Spread || e.on == nil) {
			wc.outbox = append(wc.outbox, s.frameLocked(e))
			e.on = wc
		}
	}
	st.conns = append(st.conns, wc)
	st.wg.Add(2)
	s.notifyLocked()
	s.mu.Unlock()
	wc.signal()

	go s.writeLoop(wc)
	defer st.wg.Done()
	defer s.endConn(wc)
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		var a struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &a) != nil || a.EnvelopeID == "" {
			continue
		}
		s.mu.Lock()
		st.acks = append(st.acks, Ack{EnvelopeID: a.EnvelopeID, Payload: a.Payload})
		if e := st.byID[a.EnvelopeID]; e != nil {
			e.acked = true
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
}

// writeLoop writes a connection's outbox and pings it, until it ends.
func (s *Server) writeLoop(wc *wsConn) {
	defer s.sock.wg.Done()
	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-wc.done:
			return
		case <-ping.C:
			if wc.c.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(Timeout)) != nil {
				_ = wc.c.Close()
				return
			}
		case <-wc.wake:
			s.mu.Lock()
			out := wc.outbox
			wc.outbox = nil
			s.mu.Unlock()
			for _, f := range out {
				if wc.c.WriteMessage(websocket.TextMessage, f) != nil {
					_ = wc.c.Close()
					return
				}
			}
		}
	}
}

func (wc *wsConn) signal() {
	select {
	case wc.wake <- struct{}{}:
	default:
	}
}

func (s *Server) endConn(wc *wsConn) {
	_ = wc.c.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.sock.conns {
		if c == wc {
			s.sock.conns = append(s.sock.conns[:i], s.sock.conns[i+1:]...)
			break
		}
	}
	if s.opts.Spread {
		// What the connection carried unacknowledged goes to the others.
		for _, e := range s.sock.envs {
			if e.on == wc && !e.acked {
				s.sendLocked(e)
			}
		}
	}
	close(wc.done)
	s.notifyLocked()
}

// closeAll ends every connection and waits for their goroutines.
func (s *Server) closeAll() {
	s.mu.Lock()
	conns := append([]*wsConn(nil), s.sock.conns...)
	s.mu.Unlock()
	for _, wc := range conns {
		_ = wc.c.Close()
	}
	s.sock.wg.Wait()
}

// frameLocked encodes an envelope for sending, counting the send: a second
// send carries retry_attempt, as Slack's redeliveries do.
func (s *Server) frameLocked(e *envelope) []byte {
	f, _ := json.Marshal(map[string]any{"envelope_id": e.id, "type": e.typ, "payload": e.payload,
		"accepts_response_payload": e.typ != "events_api", "retry_attempt": e.sends,
		"retry_reason": map[bool]string{true: "timeout"}[e.sends > 0]})
	e.sends++
	return f
}

// push registers an envelope and sends it on the newest connection that
// is not retiring; without one, it waits for the next connection.
func (s *Server) push(typ string, payload json.RawMessage) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.sock
	st.seq++
	e := &envelope{id: fmt.Sprintf("env-%06d", st.seq), typ: typ, payload: payload}
	st.envs = append(st.envs, e)
	st.byID[e.id] = e
	s.sendLocked(e)
	s.notifyLocked()
	return e.id
}

// sendLocked writes e on the connection it goes to: the newest that is
// not retiring, or with Options.Spread the next open one in turn. Without
// one, it waits for the next connection.
func (s *Server) sendLocked(e *envelope) {
	st := &s.sock
	e.on = nil
	var open []*wsConn
	for _, wc := range st.conns {
		if !wc.retiring {
			open = append(open, wc)
		}
	}
	if len(open) == 0 {
		return
	}
	wc := open[len(open)-1]
	if s.opts.Spread {
		wc = open[st.next%len(open)]
		st.next++
	}
	wc.outbox = append(wc.outbox, s.frameLocked(e))
	e.on = wc
	wc.signal()
}

// PushRaw pushes an envelope of any type with any payload, for bad input.
// A payload that is not JSON is sent as a JSON string, the envelope itself
// staying readable.
func (s *Server) PushRaw(typ string, payload []byte) string {
	if !json.Valid(payload) {
		payload, _ = json.Marshal(string(payload))
	}
	return s.push(typ, payload)
}

// PushEvent pushes an events_api envelope around inner, an Events API
// event such as Message returns. It returns the envelope and event ids.
func (s *Server) PushEvent(inner any) (envelopeID, eventID string) {
	body, eventID := s.EventBody(inner)
	return s.push("events_api", body), eventID
}

// PushEventBody pushes an events_api envelope with a payload EventBody
// made: pushing one body twice is how Slack's retries look.
func (s *Server) PushEventBody(body []byte) string { return s.push("events_api", body) }

// PushCommand pushes a slash_commands envelope.
func (s *Server) PushCommand(cmd map[string]string) string {
	b, _ := json.Marshal(cmd)
	return s.push("slash_commands", b)
}

// PushInteraction pushes an interactive envelope.
func (s *Server) PushInteraction(payload any) string {
	b, _ := json.Marshal(payload)
	return s.push("interactive", b)
}

// Disconnect sends Slack's disconnect message (reason "refresh_requested",
// "warning", ...) on the newest connection and sends no more envelopes on
// it: the client is expected to open a new connection.
func (s *Server) Disconnect(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.sock.conns); n > 0 {
		wc := s.sock.conns[n-1]
		wc.retiring = true
		f, _ := json.Marshal(map[string]any{"type": "disconnect", "reason": reason,
			"debug_info": map[string]any{"host": "fakeslack"}})
		wc.outbox = append(wc.outbox, f)
		wc.signal()
	}
}

// Drop cuts the newest connection without a word, as a network failure
// does. Envelopes it carried that were not acknowledged are sent again on
// the next connection.
func (s *Server) Drop() {
	s.mu.Lock()
	var wc *wsConn
	if n := len(s.sock.conns); n > 0 {
		wc = s.sock.conns[n-1]
		wc.retiring = true
	}
	s.mu.Unlock()
	if wc != nil {
		_ = wc.c.NetConn().Close()
	}
}
