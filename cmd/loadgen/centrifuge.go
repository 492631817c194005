package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/centrifugal/centrifuge"
	gorilla "github.com/gorilla/websocket"
	goredis "github.com/redis/go-redis/v9"
)

// centrifugeServer is the baseline of the fan-out runs: centrifuge's
// WebSocket server as its examples write it, with its Redis broker, any
// client allowed to connect, subscribe and publish.
type centrifugeServer struct {
	node  *centrifuge.Node
	shard *centrifuge.RedisShard
	srv   *http.Server
	ws    string
}

// startCentrifuge serves centrifuge on a loopback port, its broker on the
// Redis at url under the key prefix.
func startCentrifuge(url, prefix string, log *slog.Logger) (*centrifugeServer, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	node, err := centrifuge.New(centrifuge.Config{
		LogLevel:   centrifuge.LogLevelWarn,
		LogHandler: func(e centrifuge.LogEntry) { log.Warn(e.Message, "fields", e.Fields, "err", e.Error) },
	})
	if err != nil {
		return nil, err
	}
	shard, err := centrifuge.NewRedisShard(node, centrifuge.RedisShardConfig{
		Address: opt.Addr, DB: opt.DB, User: opt.Username, Password: opt.Password,
	})
	if err != nil {
		return nil, err
	}
	broker, err := centrifuge.NewRedisBroker(node, centrifuge.RedisBrokerConfig{Prefix: prefix, Shards: []*centrifuge.RedisShard{shard}})
	if err != nil {
		return nil, err
	}
	node.SetBroker(broker)
	node.OnConnecting(func(context.Context, centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{}}, nil
	})
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
		c.OnPublish(func(_ centrifuge.PublishEvent, cb centrifuge.PublishCallback) { cb(centrifuge.PublishReply{}, nil) })
	})
	if err := node.Run(); err != nil {
		shard.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = node.Shutdown(context.Background())
		shard.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/connection/websocket", centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{
		ReadBufferSize: 1024, UseWriteBufferPool: true,
	}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &centrifugeServer{node: node, shard: shard, srv: srv, ws: ln.Addr().String()}, nil
}

func (c *centrifugeServer) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := errors.Join(c.srv.Close(), c.node.Shutdown(ctx))
	c.shard.Close()
	return err
}

// centrifugeProto is centrifuge's JSON protocol (version 2) over
// WebSocket: commands and replies matched by id, pushes without one,
// several of them in one frame separated by newlines, and an empty object
// as the server's ping, answered by one.
type centrifugeProto struct{}

var _ protocol = centrifugeProto{}

func (centrifugeProto) name() string { return "centrifuge" }

// selfDelivery: a publisher subscribed to its channel receives its own
// publication, a delivery the server made like any other.
func (centrifugeProto) selfDelivery() bool { return true }

// centrifugeReply is what the client reads of a reply or a push.
type centrifugeReply struct {
	ID    uint32 `json:"id"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Push *struct {
		Pub *struct {
			Data json.RawMessage `json:"data"`
		} `json:"pub"`
	} `json:"push"`
}

func (centrifugeProto) join(addr, room string) (*peer, error) {
	c, _, err := dialer.Dial("ws://"+addr+"/connection/websocket", nil)
	if err != nil {
		return nil, err
	}
	m := &peer{c: c}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for id, cmd := range []string{`"connect":{}`, `"subscribe":{"channel":` + strconv.Quote(room) + `}`} {
		if err := m.write([]byte(fmt.Sprintf(`{"id":%d,%s}`, id+1, cmd))); err != nil {
			_ = c.Close()
			return nil, err
		}
		if err := awaitReply(c, uint32(id+1)); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("channel %s: %w", room, err)
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	m.nextID = 2
	return m, nil
}

// awaitReply reads until the reply to command id, failing on its error.
func awaitReply(c *gorilla.Conn, id uint32) error {
	for {
		_, frame, err := c.ReadMessage()
		if err != nil {
			return err
		}
		for line := range bytes.SplitSeq(frame, []byte("\n")) {
			var r centrifugeReply
			if len(line) == 0 || json.Unmarshal(line, &r) != nil || r.ID != id {
				continue
			}
			if r.Error != nil {
				return fmt.Errorf("centrifuge error %d: %s", r.Error.Code, r.Error.Message)
			}
			return nil
		}
	}
}

func (centrifugeProto) publish(m *peer, room, text string) error {
	m.nextID++
	return m.write(fmt.Appendf(nil, `{"id":%d,"publish":{"channel":%q,"data":%q}}`, m.nextID, room, text))
}

// pushedText takes the text of a publication this client sent, a JSON
// string with nothing to escape, without decoding the whole push: the
// client has the same work to do for every server it measures.
func pushedText(line []byte) (string, bool) {
	if !bytes.HasPrefix(line, []byte(`{"push":`)) {
		return "", false
	}
	_, rest, ok := bytes.Cut(line, []byte(`"data":"`))
	if !ok {
		return "", false
	}
	text, _, ok := bytes.Cut(rest, []byte(`"`))
	if !ok || bytes.IndexByte(text, '\\') >= 0 {
		return "", false
	}
	return string(text), true
}

func (centrifugeProto) texts(m *peer, frame []byte, each func(string)) error {
	for line := range bytes.SplitSeq(frame, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if string(line) == "{}" { // the server's ping
			if err := m.write(line); err != nil {
				return err
			}
			continue
		}
		if text, ok := pushedText(line); ok {
			each(text)
			continue
		}
		var r centrifugeReply
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("centrifuge frame: %w", err)
		}
		if r.Error != nil {
			return fmt.Errorf("centrifuge error %d: %s", r.Error.Code, r.Error.Message)
		}
		if r.Push != nil && r.Push.Pub != nil {
			var text string
			if err := json.Unmarshal(r.Push.Pub.Data, &text); err != nil {
				return fmt.Errorf("centrifuge publication: %w", err)
			}
			each(text)
		}
	}
	return nil
}
