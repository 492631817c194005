package logs

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// ThrottleOptions configure a Throttle. The zero value is usable.
type ThrottleOptions struct {
	// Burst is how many records of one message and level pass per
	// interval. Default: 10.
	Burst int
	// Interval is the window Burst counts in. Default: one minute.
	Interval time.Duration
	// MaxMessages bounds the distinct messages counted per interval;
	// records of messages beyond it share one count. Messages are the
	// program's constants, so the bound is only reached by a program
	// that formats values into them. Default: 1000.
	MaxMessages int
	// MaxStacks bounds the distinct stacks remembered; once reached, a
	// new stack is written with its id as if seen before, and its text
	// is lost. Default: 1000.
	MaxStacks int
	// StackKey is the key of the attribute holding a stack. Default:
	// "stack".
	StackKey string
	// Redactor, when set, masks secrets in every message and string or
	// error attribute.
	Redactor *Redactor
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Throttle is a slog.Handler that passes the first Burst records of each
// message and level per interval to the handler it wraps and counts the
// others; once the interval is over, the next record (or Flush) writes one
// line per throttled message, "suppressed K similar lines", at that
// message's level, with the message as "like". Panic stacks are written
// once: a record whose stack attribute holds a stack seen before carries
// "stack_id" (the same id the first one carried) and not the stack. Stacks
// count as the same when they differ only in goroutine ids and addresses.
//
// Handlers derived with WithAttrs and WithGroup share the counts. The
// summary lines are written through the handler that first meets the new
// interval. A Throttle holds no goroutine.
type Throttle struct {
	next slog.Handler
	st   *throttleState
}

var _ slog.Handler = (*Throttle)(nil)

type throttleState struct {
	o ThrottleOptions

	mu     sync.Mutex
	start  time.Time
	counts map[msgKey]*msgCount
	order  []msgKey // in order of first record, for summaries that read like the log
	stacks map[uint64]struct{}
}

type msgKey struct {
	level slog.Level
	msg   string
}

type msgCount struct{ passed, suppressed int }

// overflow is the key that messages beyond MaxMessages share.
const overflow = "(other messages)"

// NewThrottle wraps next.
func NewThrottle(next slog.Handler, o ThrottleOptions) *Throttle {
	if o.Burst <= 0 {
		o.Burst = 10
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = 1000
	}
	if o.MaxStacks <= 0 {
		o.MaxStacks = 1000
	}
	if o.StackKey == "" {
		o.StackKey = "stack"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Throttle{next: next, st: &throttleState{
		o: o, start: o.Now(), counts: map[msgKey]*msgCount{}, stacks: map[uint64]struct{}{},
	}}
}

// Enabled reports whether the wrapped handler handles level.
func (t *Throttle) Enabled(ctx context.Context, level slog.Level) bool {
	return t.next.Enabled(ctx, level)
}

// WithAttrs returns a Throttle sharing t's counts, over the wrapped
// handler with attrs (redacted).
func (t *Throttle) WithAttrs(attrs []slog.Attr) slog.Handler {
	if r := t.st.o.Redactor; r != nil {
		attrs = append([]slog.Attr(nil), attrs...)
		for i := range attrs {
			attrs[i] = redactAttr(r, attrs[i])
		}
	}
	return &Throttle{next: t.next.WithAttrs(attrs), st: t.st}
}

// WithGroup returns a Throttle sharing t's counts.
func (t *Throttle) WithGroup(name string) slog.Handler {
	return &Throttle{next: t.next.WithGroup(name), st: t.st}
}

// Handle passes r on, or counts it.
func (t *Throttle) Handle(ctx context.Context, r slog.Record) error {
	st := t.st
	now := st.o.Now()
	st.mu.Lock()
	summaries := st.rollLocked(now)
	k := msgKey{r.Level, r.Message}
	c := st.counts[k]
	if c == nil {
		if len(st.counts) >= st.o.MaxMessages {
			k.msg = overflow
			c = st.counts[k]
		}
		if c == nil {
			c = &msgCount{}
			st.counts[k] = c
			st.order = append(st.order, k)
		}
	}
	pass := c.passed < st.o.Burst
	if pass {
		c.passed++
	} else {
		c.suppressed++
	}
	var stack string
	var id uint64
	var seen bool
	if pass {
		stack, id, seen = st.stackLocked(r)
	}
	st.mu.Unlock()

	err := t.writeSummaries(ctx, now, summaries)
	if !pass {
		return err
	}
	if stack != "" || st.o.Redactor != nil {
		r = t.rewrite(r, stack, id, seen)
	}
	if e := t.next.Handle(ctx, r); e != nil {
		return e
	}
	return err
}

// Flush writes the summaries of the interval so far, and starts a new
// one: what a program calls before it exits, so that no count is lost.
func (t *Throttle) Flush(ctx context.Context) error {
	st := t.st
	now := st.o.Now()
	st.mu.Lock()
	summaries := st.takeLocked(now)
	st.mu.Unlock()
	return t.writeSummaries(ctx, now, summaries)
}

type summary struct {
	key msgKey
	n   int
}

// rollLocked starts a new interval if the current one is over, and
// returns what the old one suppressed.
func (st *throttleState) rollLocked(now time.Time) []summary {
	if now.Sub(st.start) < st.o.Interval {
		return nil
	}
	return st.takeLocked(now)
}

func (st *throttleState) takeLocked(now time.Time) []summary {
	var out []summary
	for _, k := range st.order {
		if n := st.counts[k].suppressed; n > 0 {
			out = append(out, summary{k, n})
		}
	}
	clear(st.counts)
	st.order = st.order[:0]
	st.start = now
	return out
}

func (t *Throttle) writeSummaries(ctx context.Context, now time.Time, sums []summary) error {
	var first error
	for _, s := range sums {
		if !t.next.Enabled(ctx, s.key.level) {
			continue
		}
		r := slog.NewRecord(now, s.key.level, fmt.Sprintf("suppressed %d similar lines", s.n), 0)
		r.AddAttrs(slog.String("like", s.key.msg), slog.Int("suppressed", s.n),
			slog.Duration("interval", t.st.o.Interval))
		if err := t.next.Handle(ctx, r); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// stackLocked finds r's stack attribute and says whether it was seen.
func (st *throttleState) stackLocked(r slog.Record) (stack string, id uint64, seen bool) {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == st.o.StackKey && a.Value.Kind() == slog.KindString {
			stack = a.Value.String()
			return false
		}
		return true
	})
	if stack == "" {
		return "", 0, false
	}
	id = stackID(stack)
	if _, seen = st.stacks[id]; !seen {
		if len(st.stacks) < st.o.MaxStacks {
			st.stacks[id] = struct{}{}
		} else {
			seen = true // not remembered: write the id, not yet another stack
		}
	}
	return stack, id, seen
}

// volatile is what differs between two stacks of the same code path: the
// goroutine's id and the addresses of arguments and instructions.
var volatile = regexp.MustCompile(`goroutine \d+|0x[0-9a-f]+`)

func stackID(stack string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(volatile.ReplaceAllString(stack, "")))
	return h.Sum64()
}

// rewrite returns r with its stack replaced by its id when seen, and its
// secrets masked.
func (t *Throttle) rewrite(r slog.Record, stack string, id uint64, seen bool) slog.Record {
	red := t.st.o.Redactor
	msg := r.Message
	if red != nil {
		msg = red.String(msg)
	}
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if stack != "" && a.Key == t.st.o.StackKey {
			out.AddAttrs(slog.String("stack_id", strconv.FormatUint(id, 16)))
			if seen {
				return true
			}
		}
		if red != nil {
			a = redactAttr(red, a)
		}
		out.AddAttrs(a)
		return true
	})
	return out
}

// redactAttr masks secrets in a's string and error values, in groups too.
func redactAttr(r *Redactor, a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = redactAttr(r, ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, r.String(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, r.String(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
