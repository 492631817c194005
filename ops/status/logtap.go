package status

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultRecent is how many warnings and errors a LogTap keeps when
// LogTapOptions.Recent is zero.
const DefaultRecent = 20

// maxTapAdapters bounds the adapters a LogTap remembers lines of: names
// come from the config, but a record's "adapter" attribute is a string any
// code can set.
const maxTapAdapters = 256

// LogLine is a line the server logged, as the status page shows it.
type LogLine struct {
	Time    time.Time
	Level   slog.Level
	Adapter string // the record's "adapter" attribute; "" if none
	Message string
	Err     string // the record's "err" attribute; "" if none
}

// AdapterLog is what a LogTap knows of one adapter's lines.
type AdapterLog struct {
	// Said is its last line at info level: the adapter's own word on its
	// state ("this process polls", "connected").
	Said *LogLine
	// Problem is its last warning or error, Problems how many it logged.
	Problem  *LogLine
	Problems uint64
}

// LogTapOptions configure a LogTap.
type LogTapOptions struct {
	// Recent is how many warnings and errors to keep. Default:
	// DefaultRecent.
	Recent int
	// Redact masks secrets in what is kept (logs.Redactor.String).
	// Default: nothing masked, for a logger whose lines hold none.
	Redact func(string) string
}

// LogTap is a slog.Handler wrapper that remembers, for the status page,
// the last warnings and errors, and per adapter (a record's "adapter"
// attribute, also when given by Logger.With) its last line and its last
// problem: where an operator sees "getUpdates failed" and when, without
// reading the log. It keeps a few lines, masked by Redact, and passes
// every record on unchanged. Make one with NewLogTap.
type LogTap struct {
	redact func(string) string

	mu       sync.Mutex
	recent   []LogLine // a ring of Warn and above
	next     int
	adapters map[string]*AdapterLog
}

// NewLogTap returns a LogTap that has seen nothing.
func NewLogTap(o LogTapOptions) *LogTap {
	if o.Recent <= 0 {
		o.Recent = DefaultRecent
	}
	if o.Redact == nil {
		o.Redact = func(s string) string { return s }
	}
	return &LogTap{redact: o.Redact, recent: make([]LogLine, 0, o.Recent), adapters: map[string]*AdapterLog{}}
}

// Handler returns a handler that taps the records it passes to next. It
// taps only what next is enabled for, so it costs nothing on the lines the
// configured level leaves out.
func (t *LogTap) Handler(next slog.Handler) slog.Handler { return &tapHandler{next: next, t: t} }

// Recent returns the warnings and errors kept, the newest first.
func (t *LogTap) Recent() []LogLine {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]LogLine, 0, len(t.recent))
	for i := range len(t.recent) {
		out = append(out, t.recent[(t.next-1-i+2*len(t.recent))%len(t.recent)])
	}
	return out
}

// Adapter returns what the tap knows of adapter's lines.
func (t *LogTap) Adapter(adapter string) AdapterLog {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.adapters[adapter]
	if a == nil {
		return AdapterLog{}
	}
	out := *a
	return out // the lines it points to are replaced, never changed
}

func (t *LogTap) record(l LogLine) {
	l.Message, l.Err = t.redact(l.Message), t.redact(l.Err)
	t.mu.Lock()
	defer t.mu.Unlock()
	if l.Level >= slog.LevelWarn {
		if len(t.recent) < cap(t.recent) {
			t.recent = append(t.recent, l)
		} else {
			t.recent[t.next%len(t.recent)] = l
		}
		t.next = (t.next + 1) % cap(t.recent)
	}
	if l.Adapter == "" {
		return
	}
	a := t.adapters[l.Adapter]
	if a == nil {
		if len(t.adapters) >= maxTapAdapters {
			return
		}
		a = &AdapterLog{}
		t.adapters[l.Adapter] = a
	}
	a.Said = &l
	if l.Level >= slog.LevelWarn {
		a.Problem = &l
		a.Problems++
	}
}

// tapHandler is one LogTap handler, with the adapter its logger was
// given by With, if any.
type tapHandler struct {
	next    slog.Handler
	t       *LogTap
	adapter string
	grouped bool // attributes from here on are in a group: not the adapter's
}

func (h *tapHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *tapHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		l := LogLine{Time: r.Time, Level: r.Level, Adapter: h.adapter, Message: r.Message}
		if !h.grouped {
			r.Attrs(func(a slog.Attr) bool {
				switch a.Key {
				case "adapter":
					l.Adapter = a.Value.Resolve().String()
				case "err":
					l.Err = a.Value.Resolve().String()
				}
				return true
			})
		}
		if l.Time.IsZero() {
			l.Time = time.Now()
		}
		// Only an adapter's lines, and problems, are worth keeping: the
		// server's own info lines say nothing about its state now.
		if l.Adapter != "" || l.Level >= slog.LevelWarn {
			h.t.record(l)
		}
	}
	return h.next.Handle(ctx, r)
}

func (h *tapHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	if !h.grouped {
		for _, a := range as {
			if a.Key == "adapter" {
				c.adapter = a.Value.Resolve().String()
			}
		}
	}
	return &c
}

func (h *tapHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.grouped = c.grouped || name != ""
	return &c
}
