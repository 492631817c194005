package redis_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// python is Debian's interpreter, which sees Debian's python3-channels-redis;
// another python3 earlier on PATH would not.
const python = "/usr/bin/python3"

func needChannelsRedis(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import channels_redis.core").CombinedOutput()
	if err != nil {
		t.Skipf("SKIPPING channels_redis interoperability: %s cannot import channels_redis (%v: %s); "+
			"install it with: apt-get install -y python3-channels-redis", python, err, out)
	}
}

// TestChannelsRedisInterop runs a real Django Channels layer against the
// same Redis and prefix: each side sends to the other's channels, direct
// and through a group, and checks what arrives field by field.
func TestChannelsRedisInterop(t *testing.T) {
	needChannelsRedis(t)
	url := sharedURL(t)
	prefix := testPrefix(t, url)
	l := newLayer(t, redis.Config{URL: url, Prefix: prefix})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	goLocal, err := l.NewChannel(ctx, "go.")
	if err != nil {
		t.Fatal(err)
	}
	const goChannel, goGroup = "go.plain", "gogroup"
	for _, ch := range []string{goLocal, goChannel} {
		if err := l.GroupAdd(ctx, goGroup, ch); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.CommandContext(ctx, python, "testdata/peer.py", url, prefix, goLocal, goChannel, goGroup)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	readLine := func(v any) {
		t.Helper()
		if !lines.Scan() {
			_ = cmd.Wait()
			t.Fatalf("python peer ended early: %v\n%s", lines.Err(), stderr.String())
		}
		if err := json.Unmarshal(lines.Bytes(), v); err != nil {
			t.Fatalf("python peer printed %q: %v", lines.Text(), err)
		}
	}

	// Python to Switchboard: a direct message to each channel, then the
	// group message, in that order, since each is one send.
	for _, ch := range []string{goLocal, goChannel} {
		ev, err := l.Receive(ctx, ch)
		if err != nil {
			t.Fatalf("Receive(%q): %v\n%s", ch, err, stderr.String())
		}
		want := event.Message{"type": "py.direct", "text": "héllo from python", "n": int8(7),
			"list": []any{"a", int8(1)}, "bytes": []byte{0, 1}}
		if !reflect.DeepEqual(normalize(ev), normalize(want)) {
			t.Errorf("%s got %#v, want %#v", ch, ev, want)
		}
		ev, err = l.Receive(ctx, ch)
		if err != nil {
			t.Fatalf("Receive(%q): %v", ch, err)
		}
		if m := ev.(event.Message); m.Type() != "py.group" || normalize(m["n"]) != int64(8) || len(m) != 2 {
			t.Errorf("%s got %#v from the group, want type py.group and n 8 only", ch, m)
		}
	}

	// Switchboard to Python.
	var names struct{ Local, Plain, Group string }
	readLine(&names)
	for _, ch := range []string{names.Local, names.Plain} {
		if err := l.Send(ctx, ch, event.Message{"type": "go.direct", "text": "from go", "blob": []byte{9}}); err != nil {
			t.Fatalf("Send(%q): %v", ch, err)
		}
	}
	if err := l.GroupSend(ctx, names.Group, event.Message{"type": "go.group", "n": 3}); err != nil {
		t.Fatal(err)
	}
	var got map[string][]map[string]any
	readLine(&got)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("python peer: %v\n%s", err, stderr.String())
	}
	for _, side := range []string{"local", "plain"} {
		msgs := got[side]
		if len(msgs) != 2 {
			t.Fatalf("python %s channel got %v", side, msgs)
		}
		direct := map[string]any{"type": "go.direct", "text": "from go", "blob": map[string]any{"bytes": []any{9.0}}}
		if !reflect.DeepEqual(msgs[0], direct) {
			t.Errorf("python %s channel got %v, want %v", side, msgs[0], direct)
		}
		group := map[string]any{"type": "go.group", "n": 3.0}
		if !reflect.DeepEqual(msgs[1], group) {
			t.Errorf("python %s channel got %v from the group, want %v", side, msgs[1], group)
		}
	}
}

// TestChannelsRedisReachesAClaim: what a Django Channels process sends to
// a conversation channel, directly or through a group, reaches the
// Switchboard process that claimed the channel's prefix: channels_redis
// stores it under the name up to the "!", which the claim's loop pops.
func TestChannelsRedisReachesAClaim(t *testing.T) {
	needChannelsRedis(t)
	url := sharedURL(t)
	prefix := testPrefix(t, url)
	l := newLayer(t, redis.Config{URL: url, Prefix: prefix})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	type got struct{ channel, typ, text string }
	ch := make(chan got, 4)
	stop, err := l.Claim("conv.5", func(name string, sh *layer.Shared) {
		m := sh.Event().(event.Message)
		text, _ := m["text"].(string)
		ch <- got{name, m.Type(), text}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	const conv = "conv.5!telegram.42"
	out, err := exec.CommandContext(ctx, python, "testdata/conv_peer.py", url, prefix, conv, "room.lobby").CombinedOutput()
	if err != nil {
		t.Fatalf("python peer: %v\n%s", err, out)
	}
	for _, want := range []got{{conv, "py.direct", "to the conversation"}, {conv, "py.group", "to the room"}} {
		select {
		case g := <-ch:
			if g != want {
				t.Fatalf("the claim got %+v, want %+v", g, want)
			}
		case <-ctx.Done():
			t.Fatalf("the claim never got %+v", want)
		}
	}
}
