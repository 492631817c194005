package redis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// sharedURL returns the URL of the Redis shared by the tests: the one
// SWITCHBOARD_REDIS_URL names, else 127.0.0.1:6379, else a redis-server of
// the test process's own (internal/redistest).
func sharedURL(t testing.TB) string {
	t.Helper()
	return redistest.URL(t)
}

// testPrefix returns a key prefix of the test's own, deleted on urls when
// the test ends (redistest.Prefix).
func testPrefix(t testing.TB, urls ...string) string {
	t.Helper()
	return redistest.Prefix(t, urls...)
}

func deleteKeys(t testing.TB, url, prefix string) {
	t.Helper()
	redistest.DeleteKeys(t, url, prefix)
}

// newLayer returns a layer on url that the test closes when it ends.
func newLayer(t testing.TB, cfg redis.Config, opts ...redis.Option) *redis.Layer {
	t.Helper()
	l, err := redis.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// factory makes layers for the conformance suite from base, with the
// suite's layer.Config.
func factory(base redis.Config) func(t *testing.T, cfg layer.Config) layer.Layer {
	return func(t *testing.T, cfg layer.Config) layer.Layer {
		c := base
		c.Config = cfg
		return newLayer(t, c)
	}
}

// limitedBuffer keeps what a child process writes, safe to read while it
// writes.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() < 1<<20 {
		b.buf.Write(p)
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// normalize maps integers of any size to int64 and event messages to
// plain maps, so that values compare equal whatever width MessagePack
// chose for them.
func normalize(v any) any {
	switch x := v.(type) {
	case event.Message:
		return normalize(map[string]any(x))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	}
	return v
}

// blockedIn reports nil once a client of s is blocked in cmd.
func blockedIn(ctx context.Context, s *server, cmd string) error {
	a := s.client()
	defer a.Close()
	list, err := a.ClientList(ctx).Result()
	if err != nil {
		return err
	}
	for line := range strings.Lines(list) {
		var flags, last string
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "flags="); ok {
				flags = v
			} else if v, ok := strings.CutPrefix(f, "cmd="); ok {
				last = v
			}
		}
		if strings.Contains(flags, "b") && last == cmd {
			return nil
		}
	}
	return fmt.Errorf("no client of %s blocked in %s", s.Addr, cmd)
}

// logRecorder keeps what a layer logs.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

func (h *logRecorder) all() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), h.records...)
}

// await waits until a message containing part has been logged.
func (h *logRecorder) await(t testing.TB, part string) {
	t.Helper()
	waitFor(t, 10*time.Second, "a log line containing "+strconv.Quote(part), func(context.Context) error {
		for _, r := range h.all() {
			if strings.Contains(r.Message, part) {
				return nil
			}
		}
		return errors.New("not logged yet")
	})
}
