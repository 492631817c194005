package room_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/bots/room"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/layer/redis"
	"github.com/switchboard-bots/switchboard/ops"
)

// python is Debian's interpreter, which sees Debian's python3-channels-redis;
// another python3 earlier on PATH would not.
const python = "/usr/bin/python3"

// A Django process group-sends to the room the Channels tutorial's
// chat.message and a room.message whose text is a number: the room's
// WebSocket members stay connected, one warning per type is logged and the
// drops are counted, and the members get the next good message.
func TestForeignMessagesDoNotDisconnectTheRoom(t *testing.T) {
	if out, err := exec.Command(python, "-c", "import channels_redis.core").CombinedOutput(); err != nil {
		t.Skipf("SKIPPING: %s cannot import channels_redis (%v: %s); install it with: apt-get install -y python3-channels-redis", python, err, out)
	}
	url, prefix := sharedRedis(t)
	l, err := redis.New(redis.Config{URL: url, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() }) // after the server's Shutdown, which startRoom's cleanup makes

	reg := prometheus.NewRegistry()
	metrics, err := ops.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var logs logtest.Buffer
	app := consumer.WithLogger(logs.Logger())(consumer.WithLayer(l, consumer.ObserveDrops(metrics))(room.New()))

	addr := startRoom(t, app, adapters.WithLogger(logs.Logger()))

	members := make([]*gorilla.Conn, 2)
	for i := range members {
		c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/ws/room/", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		members[i] = c
		read(t, c) // the welcome: the member is in the group
	}

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, "testdata/foreign.py", url, prefix, room.Group(room.Lobby)).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	for i, c := range members {
		if got := read(t, c); got != "[django] django: a good one" {
			t.Fatalf("member %d got %q, want the next good message", i, got)
		}
	}

	out := logs.String()
	for _, typ := range []string{"chat.message", "room.message"} {
		if n := strings.Count(out, "type="+typ+" "); n != 1 {
			t.Errorf("%d warnings for %s, want 1:\n%s", n, typ, out)
		}
	}
	for _, want := range []string{`has no handler for event \"chat.message\"`, "reason=no_handler", "reason=undecodable", "channel=specific."} {
		if !strings.Contains(out, want) {
			t.Errorf("the warnings lack %s:\n%s", want, out)
		}
	}
	want := `
# HELP switchboard_layer_messages_dropped_total Layer messages consumers dropped because they could not handle them or keep up with them, by message type and reason (no_handler, undecodable, backlog_full, send_failed; for conversation channels also no_conversation, no_adapter, not_serving).
# TYPE switchboard_layer_messages_dropped_total counter
switchboard_layer_messages_dropped_total{reason="no_handler",type="chat.message"} 2
switchboard_layer_messages_dropped_total{reason="undecodable",type="room.message"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "switchboard_layer_messages_dropped_total"); err != nil {
		t.Error(err)
	}

	// Still members, both ways.
	if err := members[0].WriteMessage(gorilla.TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, members[1]); got != "[web] Anonymous: still here" {
		t.Fatalf("got %q", got)
	}
}

// read returns the next text frame of c, failing t on a close or after 10 s.
func read(t *testing.T, c *gorilla.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// sharedRedis returns the URL of the Redis the tests share and a key
// prefix of the test's own, whose keys are deleted when the test ends.
func sharedRedis(t *testing.T) (url, prefix string) {
	t.Helper()
	url = redistest.URL(t)
	return url, redistest.Prefix(t, url)
}
