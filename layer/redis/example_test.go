package redis_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// A consumer's own channel joins a room; a broadcast to the room reaches
// it. Another process, or a Django Channels site using channels_redis with
// the same Redis and prefix, could send the broadcast just as well.
func Example() {
	url := os.Getenv("SWITCHBOARD_REDIS_URL") // empty: redis://127.0.0.1:6379/0
	prefix := "example." + strings.ToLower(rand.Text()[:8]) + "."
	l, err := redis.New(redis.Config{URL: url, Prefix: prefix})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	defer l.Flush(context.Background()) // delete the example's keys

	ctx := context.Background()
	inbox, err := l.NewChannel(ctx, "specific.")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := l.GroupAdd(ctx, "room", inbox); err != nil {
		fmt.Println(err)
		return
	}
	if err := l.GroupSend(ctx, "room", event.Message{"type": "chat.message", "text": "hello"}); err != nil {
		fmt.Println(err)
		return
	}
	ev, err := l.Receive(ctx, inbox)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.Type(), ev.(event.Message)["text"])
	// Output: chat.message hello
}

// A time.Time, which Python would receive as an opaque msgpack.Timestamp,
// is refused before anything reaches Redis, with the field that holds it;
// as text it goes through.
func ExampleErrNotPortable() {
	l, err := redis.New(redis.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	err = l.Send(context.Background(), "chat", event.Message{"type": "chat.message", "meta": map[string]any{"at": at}})
	fmt.Println(errors.Is(err, redis.ErrNotPortable))
	fmt.Println(err)
	// Output:
	// true
	// redis: send to "chat": field "meta.at": a time.Time (MessagePack timestamp), which Python reads as msgpack.Timestamp; send it as text, e.g. t.UTC().Format(time.RFC3339Nano)
}
