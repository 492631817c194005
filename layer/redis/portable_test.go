package redis_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// TestNotPortableWithPython checks each value the layer refuses against
// channels_redis itself: the encoding a sender without the check would
// queue makes Python's receive fail or hand over an opaque object; the
// layer refuses the send with ErrNotPortable naming the field, for a
// direct send and a group send alike; and Python then reads the next
// good message, since nothing was queued in between.
func TestNotPortableWithPython(t *testing.T) {
	srv := startServer(t)
	l := newLayer(t, redis.Config{URL: srv.URL, Prefix: "portable"})
	py := startPeer(t, "portable", srv.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	local := py.name("py")
	py.must(map[string]any{"op": "group_add", "group": "room", "channel": local})
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		value   any
		field   string
		python  string // what channels_redis makes of the unchecked encoding
		raising bool
	}{
		{"integer map key", map[string]any{"ids": map[int]string{7: "x"}}, `field "v.ids"`,
			"int is not allowed for map key", true},
		{"non-UTF-8 string", []any{"ok", "caf\xe9"}, `field "v[1]"`, "UnicodeDecodeError", true},
		{"non-UTF-8 map key", map[string]any{"caf\xe9": 1}, `field "v"`, "UnicodeDecodeError", true},
		{"time.Time", map[string]any{"at": at}, `field "v.at"`, "Timestamp(seconds=1796288400, nanoseconds=0)", false},
		{"extension type", msgpack.RawMessage{0xd4, 0x05, 0x01}, `field "v"`, "ExtType(code=5, ", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := event.Message{"type": "test.bad", "v": c.value}
			raw, err := msgpack.Marshal(map[string]any(bad))
			if err != nil {
				t.Fatal(err)
			}
			py.must(map[string]any{"op": "send_raw", "channel": "py.raw", "hex": hex.EncodeToString(raw)})
			res, perr := py.do(map[string]any{"op": "receive", "channel": "py.raw", "timeout": 10})
			if got := perr + string(res); !strings.Contains(got, c.python) || (perr != "") != c.raising {
				t.Errorf("channels_redis read the unchecked encoding as %s, want %q (raising: %v)", got, c.python, c.raising)
			}

			for _, send := range []func() error{
				func() error { return l.Send(ctx, local, bad) },
				func() error { return l.GroupSend(ctx, "room", bad) },
			} {
				err := send()
				if !errors.Is(err, redis.ErrNotPortable) || !strings.Contains(err.Error(), c.field) {
					t.Errorf("send: %v, want ErrNotPortable naming %s", err, c.field)
				}
			}
			good := event.Message{"type": "test.good", "case": c.name}
			must(t, l.Send(ctx, local, good))
			if m := py.receive(local); m["type"] != "test.good" || m["case"] != c.name {
				t.Errorf("python read %v after the refusals, want the good message", m)
			}
		})
	}
}
