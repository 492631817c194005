package redis_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// TestWireLayout checks the keys and members channels_redis reads: a
// sorted set per channel named prefix+channel, scored by send time, whose
// members are 12 random bytes and a MessagePack map; process-local
// channels share the key cut after "!", and their messages name the full
// channel; a group is the sorted set prefix+":group:"+name of its members.
func TestWireLayout(t *testing.T) {
	srv := startServer(t)
	l := newLayer(t, redis.Config{URL: srv.URL, Prefix: "asgi"})
	admin := srv.client()
	defer admin.Close()
	ctx := t.Context()
	local, err := l.NewChannel(ctx, "specific.")
	must(t, err)
	before := float64(time.Now().UnixMicro()) / 1e6
	must(t, l.Send(ctx, "chat", event.Message{"type": "chat.message", "text": "hi"}))
	must(t, l.Send(ctx, local, event.Message{"type": "chat.message", "text": "you"}))
	must(t, l.GroupAdd(ctx, "room", local))

	decode := func(key string) (map[string]any, float64) {
		t.Helper()
		zs, err := admin.ZRangeWithScores(ctx, key, 0, -1).Result()
		must(t, err)
		if len(zs) != 1 {
			t.Fatalf("%s holds %d members, want 1", key, len(zs))
		}
		member := []byte(zs[0].Member.(string))
		var m map[string]any
		if err := msgpack.NewDecoder(bytes.NewReader(member[12:])).Decode(&m); err != nil {
			t.Fatalf("%s: member after 12 bytes is not MessagePack: %v", key, err)
		}
		return m, zs[0].Score
	}
	m, sc := decode("asgichat")
	if m["type"] != "chat.message" || m["text"] != "hi" || len(m) != 2 || sc < before-1 || sc > before+5 {
		t.Errorf("asgichat holds %v scored %f, want the message scored about %f", m, sc, before)
	}
	if ttl := admin.PTTL(ctx, "asgichat").Val(); ttl <= 0 || ttl > layer.DefaultExpiry {
		t.Errorf("asgichat expires in %s, want within the message expiry", ttl)
	}
	cut := local[:strings.IndexByte(local, '!')+1]
	m, _ = decode("asgi" + cut)
	if m["__asgi_channel__"] != local || m["text"] != "you" {
		t.Errorf("asgi%s holds %v, want the message naming %s", cut, m, local)
	}
	members := admin.ZRange(ctx, "asgi:group:room", 0, -1).Val()
	if len(members) != 1 || members[0] != local {
		t.Errorf("asgi:group:room = %v, want [%s]", members, local)
	}
	if ttl := admin.PTTL(ctx, "asgi:group:room").Val(); ttl <= 0 || ttl > layer.DefaultGroupExpiry {
		t.Errorf("group expires in %s, want within the group expiry", ttl)
	}
}

// TestGroupCapacityRules checks that a group send, which finds each
// member's capacity inside Redis, applies the ChannelCapacity rules as
// Send does: exact names first, then the longest pattern.
func TestGroupCapacityRules(t *testing.T) {
	srv := startServer(t)
	cfg := layer.Config{Capacity: 1, ChannelCapacity: map[string]int{
		"cap.a*": 2, "cap.a.b?": 3, "cap.[xy]*": 4, "cap.exact": 5, "cap.e*": 6, `cap.q\.*`: 7,
	}}
	l := newLayer(t, redis.Config{URL: srv.URL, Config: cfg})
	admin := srv.client()
	defer admin.Close()
	ctx := context.Background()
	names := []string{"cap.a.1", "cap.a.bc", "cap.x1", "cap.exact", "cap.exactly", "cap.zzz", "cap.q.r"}
	for _, n := range names {
		must(t, l.GroupAdd(ctx, "caps", n))
	}
	for range 10 {
		must(t, l.GroupSend(ctx, "caps", event.Message{"type": "t.t"}))
	}
	for _, n := range names {
		if got, want := admin.ZCard(ctx, "asgi"+n).Val(), int64(cfg.CapacityFor(n)); got != want {
			t.Errorf("%s holds %d messages after 10 group sends, want its capacity %d", n, got, want)
		}
	}
}

// TestEncryption checks that payloads are sealed, that a layer whose
// newest key is new still reads what was sealed under the old one, and
// that a layer without the key cannot read them.
func TestEncryption(t *testing.T) {
	srv := startServer(t)
	old := newLayer(t, redis.Config{URL: srv.URL, EncryptionKeys: []string{"old secret"}})
	rotated := newLayer(t, redis.Config{URL: srv.URL, EncryptionKeys: []string{"new secret", "old secret"}})
	admin := srv.client()
	defer admin.Close()
	ctx := t.Context()
	secret := event.Message{"type": "chat.message", "text": "attack at dawn"}
	must(t, old.Send(ctx, "enc", secret))
	raw := admin.ZRange(ctx, "asgienc", 0, -1).Val()
	if len(raw) != 1 || strings.Contains(raw[0], "attack at dawn") || strings.Contains(raw[0], "chat.message") {
		t.Fatalf("stored %q, want it sealed", raw)
	}
	ev, err := rotated.Receive(ctx, "enc")
	must(t, err)
	if ev.(event.Message)["text"] != "attack at dawn" {
		t.Fatalf("rotated layer read %v", ev)
	}
	must(t, rotated.GroupAdd(ctx, "encg", "enc2"))
	must(t, rotated.GroupSend(ctx, "encg", secret))
	ev, err = rotated.Receive(ctx, "enc2")
	must(t, err)
	if ev.(event.Message)["text"] != "attack at dawn" {
		t.Fatalf("group message read back as %v", ev)
	}
}
