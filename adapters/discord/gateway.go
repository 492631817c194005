package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters"
)

// Gateway opcodes.
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

const (
	// readLimit bounds one Gateway message; READY of a bot in many guilds
	// is the largest.
	readLimit = 16 << 20
	// helloTimeout bounds the wait for HELLO, and writeTimeout a write.
	helloTimeout = 30 * time.Second
	writeTimeout = 10 * time.Second
	// closeResumable is the code the adapter closes with when it means to
	// resume: Discord ends the session on 1000 and 1001 only.
	closeResumable = 4000
)

var (
	errReconnect = errors.New("discord: gateway asked to reconnect (op 7)")
	errInvalid   = errors.New("discord: gateway invalidated the session (op 9)")
	errZombie    = errors.New("discord: no heartbeat ACK since the last heartbeat")
)

// CloseError is a Gateway connection closed by Discord with a close code.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("discord: gateway closed the connection: %d %s", e.Code, e.Reason)
}

// Fatal reports whether reconnecting cannot help: authentication failed
// (4004, which also wraps ErrAuth), an invalid shard (4010), sharding
// required (4011), an invalid API version (4012), invalid or disallowed
// intents (4013, 4014).
func (e *CloseError) Fatal() bool {
	switch e.Code {
	case 4004, 4010, 4011, 4012, 4013, 4014:
		return true
	}
	return false
}

// Unwrap returns ErrAuth for 4004.
func (e *CloseError) Unwrap() error {
	if e.Code == 4004 {
		return ErrAuth
	}
	return nil
}

// resets reports whether the session is over: invalid sequence (4007) and
// session timed out (4009) need a new IDENTIFY.
func (e *CloseError) resets() bool { return e.Code == 4007 || e.Code == 4009 }

// session is the Gateway session kept across connections. Only Serve's
// goroutine changes it; the heartbeat reads seq.
type session struct {
	gateway   string // from /gateway/bot
	id        string // "" until READY, and after the session ended
	resumeURL string
	// seq is the sequence number of the last dispatch taken: handed to
	// its conversation (or skipped). It goes into every heartbeat and
	// into RESUME, so a resumed session replays what came after it.
	seq atomic.Int64
}

func (s *session) reset() {
	s.id, s.resumeURL = "", ""
	s.seq.Store(0)
}

// conn is one Gateway connection.
type conn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex // serialises writes
	acked  atomic.Bool
	zombie atomic.Bool // closed by the heartbeat for want of an ACK
	// busy is set while the reader waits for a full inbox, and reads
	// counts the messages read: while the reader is held or reading, an
	// ACK missing behind the messages before it proves nothing.
	busy  atomic.Bool
	reads atomic.Int64
}

func (c *conn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteJSON(v)
}

// close sends a close frame with code and closes the connection.
func (c *conn) close(code int) {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	_ = c.ws.Close()
}

// payload is a Gateway message.
type payload struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  int64           `json:"s"`
	T  string          `json:"t"`
}

// connect runs one Gateway connection until it ends, and reports whether
// the session was up on it (READY or RESUMED). When ctx ends it closes
// with 1000, which ends the session: a new process identifies anew.
func (a *Adapter) connect(ctx context.Context, in *adapters.Intake, log *slog.Logger, sess *session) (up bool, err error) {
	target := sess.gateway
	if sess.id != "" && sess.resumeURL != "" {
		target = sess.resumeURL
	}
	u, err := url.Parse(target)
	if err != nil {
		return false, fmt.Errorf("discord: gateway URL: %w", err)
	}
	u.RawQuery = url.Values{"v": {"10"}, "encoding": {"json"}}.Encode()
	dctx, cancel := context.WithTimeout(ctx, helloTimeout)
	ws, _, err := a.dialer.DialContext(dctx, u.String(), nil)
	cancel()
	if err != nil {
		return false, err
	}
	ws.SetReadLimit(readLimit)
	c := &conn{ws: ws}
	c.acked.Store(true)
	closed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { defer close(closed); c.close(websocket.CloseNormalClosure) })
	defer func() {
		if !stop() {
			<-closed
		}
		_ = ws.Close()
	}()

	_ = ws.SetReadDeadline(time.Now().Add(helloTimeout))
	var hello struct {
		Interval int64 `json:"heartbeat_interval"`
	}
	p, err := read(ws)
	if err != nil {
		return false, err
	}
	if p.Op != opHello || json.Unmarshal(p.D, &hello) != nil || hello.Interval <= 0 {
		return false, fmt.Errorf("discord: expected HELLO, got op %d", p.Op)
	}
	interval := time.Duration(hello.Interval) * time.Millisecond
	beats := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(beats)
	wg.Go(func() { a.heartbeat(c, interval, sess, beats) })

	if sess.id != "" {
		err = c.write(map[string]any{"op": opResume, "d": map[string]any{
			"token": string(a.cfg.Token), "session_id": sess.id, "seq": sess.seq.Load()}})
	} else {
		err = c.write(map[string]any{"op": opIdentify, "d": map[string]any{
			"token": string(a.cfg.Token), "intents": a.cfg.intents(),
			"shard":      [2]int{a.cfg.Shard.ID, a.cfg.Shard.Count},
			"properties": map[string]string{"os": runtime.GOOS, "browser": "switchboard", "device": "switchboard"}}})
	}
	if err != nil {
		return false, err
	}
	for {
		// Discord answers every heartbeat: a connection silent for two
		// intervals is dead, whatever the heartbeat's clock says.
		_ = ws.SetReadDeadline(time.Now().Add(2*interval + helloTimeout))
		p, err := read(ws)
		c.reads.Add(1)
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				cerr := &CloseError{Code: ce.Code, Reason: ce.Text}
				if cerr.resets() {
					sess.reset()
				}
				return up, cerr
			}
			if c.zombie.Load() {
				return up, errZombie
			}
			if errors.Is(err, errMalformed) {
				log.Warn("discord: malformed gateway message skipped", "err", err)
				continue
			}
			return up, err
		}
		switch p.Op {
		case opDispatch:
			if a.dispatch(ctx, in, log, sess, c, p) {
				up = true
			}
			if p.S > 0 {
				sess.seq.Store(p.S)
			}
		case opHeartbeat:
			if err := c.write(heartbeatPayload(sess)); err != nil {
				return up, err
			}
		case opHeartbeatAck:
			c.acked.Store(true)
		case opReconnect:
			c.close(closeResumable)
			return up, errReconnect
		case opInvalidSession:
			var resumable bool
			_ = json.Unmarshal(p.D, &resumable)
			c.close(closeResumable)
			if !resumable {
				sess.reset()
				// Discord asks for a wait of 1 to 5 s before a new IDENTIFY.
				select {
				case <-a.clock.After(jitter(time.Second, 5*time.Second)):
				case <-ctx.Done():
				}
			}
			return up, errInvalid
		}
	}
}

// errMalformed marks a Gateway message that is not a JSON payload.
var errMalformed = errors.New("not a gateway payload")

// read reads one payload from ws.
func read(ws *websocket.Conn) (payload, error) {
	var p payload
	_, data, err := ws.ReadMessage()
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("%w: %w", errMalformed, err)
	}
	return p, nil
}

// heartbeat sends a heartbeat every interval, the first after a random
// part of it (as Discord asks, so that reconnecting clients spread out),
// until beats is closed. A heartbeat whose predecessor got no ACK, with
// nothing read since and the reader not held by a full inbox, finds the
// connection a zombie: it closes it so that Serve resumes on a new one.
func (a *Adapter) heartbeat(c *conn, interval time.Duration, sess *session, beats <-chan struct{}) {
	next := a.clock.After(jitter(0, interval))
	reads := c.reads.Load()
	for {
		select {
		case <-next:
		case <-beats:
			return
		}
		now := c.reads.Load()
		if !c.acked.Swap(false) && !c.busy.Load() && now == reads {
			c.zombie.Store(true)
			c.close(closeResumable)
			return
		}
		if err := c.write(heartbeatPayload(sess)); err != nil {
			return // the read loop sees the connection fail
		}
		reads = now
		next = a.clock.After(interval)
	}
}

// heartbeatPayload is a heartbeat with the last sequence number taken, or
// null before the first.
func heartbeatPayload(sess *session) map[string]any {
	var d any
	if seq := sess.seq.Load(); seq > 0 {
		d = seq
	}
	return map[string]any{"op": opHeartbeat, "d": d}
}
