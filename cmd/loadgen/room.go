package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/server"
)

// roomConfig is the botserver config of a room server: the room bot on
// /room/{room}/ over the Redis layer, the ops listener with Go's runtime
// metrics and profiles (loopback only), and limits that let one loopback
// client open every member.
// Everything else keeps botserver's defaults, so that what is measured is
// what an operator runs.
const roomConfig = `
log: {level: warn}
layer:
  backend: redis
  redis: {url: %q, prefix: %q}
websocket:
  addr: 127.0.0.1:0
  page_path: ""
  listener: {max_conns: %[3]d, max_conns_per_client: %[3]d}
  scopes: {max_scopes: %[3]d}
ops: {addr: 127.0.0.1:0, pprof: true}
routes:
  websocket:
    paths:
      - path: /room/{room}/
        bot: room
`

// roomServer is a botserver running the room bot, in this process.
type roomServer struct {
	srv  *server.Server
	done chan error
	ws   string // where the WebSocket adapter listens
	ops  string // where /metrics is served
}

// startRoomServer runs botserver's code with roomConfig on Redis at url,
// under the key prefix, logging to w at the config's level, until stop; it returns once the
// WebSocket adapter listens.
func startRoomServer(ctx context.Context, url, prefix string, w io.Writer) (*roomServer, error) {
	data := fmt.Sprintf(roomConfig, url, prefix, 2*maxConns)
	cfg, err := server.Parse("loadgen-room.yaml", []byte(data), func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	log, err := server.NewLogger(cfg.Log, w)
	if err != nil {
		return nil, err
	}
	s, err := server.New(cfg, builtin.Registry(), server.WithLogger(log))
	if err != nil {
		return nil, err
	}
	r := &roomServer{srv: s, done: make(chan error, 1)}
	go func() { r.done <- s.Run(context.WithoutCancel(ctx)) }()
	select {
	case <-s.WebSocket().Ready():
	case err := <-r.done:
		return nil, fmt.Errorf("room server stopped before it listened: %w", err)
	case <-ctx.Done():
		_ = r.stop()
		return nil, ctx.Err()
	}
	r.ws, r.ops = s.WebSocketAddr().String(), s.OpsAddr().String()
	return r, nil
}

// stop shuts the server down within 10 s and waits for Run to return.
func (r *roomServer) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	return errors.Join(err, <-r.done)
}

// roomProto is the room bot's protocol as its web page speaks it: a member
// connects to /room/NAME/, is welcomed once it is in the room's group,
// sends text frames and receives the others' as "[web] NAME: TEXT".
type roomProto struct{}

var _ protocol = roomProto{}

func (roomProto) name() string { return "switchboard" }

func (roomProto) selfDelivery() bool { return false } // the room bot does not echo a member's own message

func (roomProto) join(addr, room string) (*peer, error) {
	c, _, err := dialer.Dial("ws://"+addr+"/room/"+room+"/", nil)
	if err != nil {
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, m, err := c.ReadMessage()
	if err != nil || !strings.HasPrefix(string(m), "Welcome to room") {
		_ = c.Close()
		return nil, fmt.Errorf("not welcomed to room %s: %v %q", room, err, m)
	}
	_ = c.SetReadDeadline(time.Time{})
	return &peer{c: c}, nil
}

func (roomProto) publish(m *peer, _, text string) error { return m.write([]byte(text)) }

func (roomProto) texts(_ *peer, frame []byte, each func(string)) error {
	if _, text, ok := strings.Cut(string(frame), ": "); ok && strings.HasPrefix(string(frame), "[web] ") {
		each(text)
	}
	return nil
}
