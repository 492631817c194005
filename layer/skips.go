package layer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/event"
)

// Group sends that skip members.
//
// A group send skips the members whose channels are full, as Django
// Channels does: the group goes on when one member does not keep up. A
// skipped member loses the message, so every backend reports each skip
// through a SkipReporter: counted by group in a SkipObserver (a metric) and
// logged at warn, at most once per group per interval with the count since
// the last line. A sender that would rather fail asks for GroupSendAll.

// SkipError is the error of a GroupSendAll that did not send because
// members' channels were full. It wraps ErrChannelFull.
type SkipError struct {
	Group string
	Full  int // members whose channels were full
}

func (e *SkipError) Error() string {
	return fmt.Sprintf("layer: send to group %q: %d members' channels are full; sent to none", e.Group, e.Full)
}

func (e *SkipError) Unwrap() error { return ErrChannelFull }

// AllSender is implemented by layers that can send to a group all or
// nothing.
type AllSender interface {
	// GroupSendAll is GroupSend that skips nobody: when a member's
	// channel is full it sends to no member and fails with a *SkipError.
	GroupSendAll(ctx context.Context, group string, msg event.Event) error
}

// GroupSendAll sends msg to every member of group through l, or to none:
// with a layer that is or wraps (see Unwrapper) an AllSender it fails with
// a *SkipError, wrapping ErrChannelFull, when a member's channel is full.
// Other layers fail with an error wrapping errors.ErrUnsupported.
func GroupSendAll(ctx context.Context, l any, group string, msg event.Event) error {
	for l != nil {
		if s, ok := l.(AllSender); ok {
			return s.GroupSendAll(ctx, group, msg)
		}
		u, ok := l.(Unwrapper)
		if !ok {
			break
		}
		l = u.Unwrap()
	}
	return fmt.Errorf("layer: send to group %q all or nothing: %w", group, errors.ErrUnsupported)
}

// SkipObserver counts the deliveries that group sends skip; *ops.Metrics
// is one. group is the group's name, or SkipOtherGroup once
// MaxSkipGroups names have been seen, so that a metric labelled by it
// stays bounded.
type SkipObserver interface {
	GroupSendSkipped(group string, skipped int)
}

// Bounds of the skip bookkeeping.
const (
	// MaxSkipGroups is how many group names a SkipReporter tells apart;
	// the skips of groups beyond them are reported as SkipOtherGroup.
	MaxSkipGroups = 100
	// SkipOtherGroup is the group that stands for all groups beyond
	// MaxSkipGroups.
	SkipOtherGroup = "other"
	// DefaultSkipWarnEvery is how often, at most, a SkipReporter logs the
	// skips of one group.
	DefaultSkipWarnEvery = 10 * time.Second
)

// SkipReporter counts and logs the deliveries that group sends skip. It is
// safe for concurrent use; the zero value is not usable, make one with
// NewSkipReporter.
type SkipReporter struct {
	log   *slog.Logger
	obs   SkipObserver
	every time.Duration
	now   func() time.Time

	mu     sync.Mutex
	groups map[string]*skipped // by reported name, at most MaxSkipGroups+1
}

type skipped struct {
	warned      time.Time // of the last line
	sends, full int       // since the last line
}

// NewSkipReporter returns a reporter that logs to log (nil: nowhere) at
// most once per group per every (zero or less: every skip), measured by
// now (nil: time.Now), and counts in obs (nil: nowhere).
func NewSkipReporter(log *slog.Logger, obs SkipObserver, every time.Duration, now func() time.Time) *SkipReporter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &SkipReporter{log: log, obs: obs, every: every, now: now, groups: make(map[string]*skipped)}
}

// Skipped reports a send to group, of members members, that skipped full
// of them. The warning carries the group, the skipped deliveries since the
// group's last warning ("skipped", this send's included) and the sends
// they were skipped in ("sends"), so that the lines add up to every skip.
func (r *SkipReporter) Skipped(group string, full, members int) {
	if full <= 0 {
		return
	}
	r.mu.Lock()
	name := group
	e := r.groups[name]
	if e == nil && len(r.groups) >= MaxSkipGroups {
		name = SkipOtherGroup
		e = r.groups[name]
	}
	if e == nil {
		e = &skipped{}
		r.groups[name] = e
	}
	e.sends++
	e.full += full
	now := r.now()
	warn := e.warned.IsZero() || now.Sub(e.warned) >= r.every
	sends, total := e.sends, e.full
	if warn {
		e.warned, e.sends, e.full = now, 0, 0
	}
	r.mu.Unlock()
	if r.obs != nil {
		r.obs.GroupSendSkipped(name, full)
	}
	if warn {
		r.log.Warn("layer: group send skipped members whose channels are full",
			"group", group, "skipped", total, "sends", sends, "members", members)
	}
}

// Flush logs the skips not logged yet, as a closing layer does.
func (r *SkipReporter) Flush() {
	r.mu.Lock()
	type line struct {
		group       string
		sends, full int
	}
	var lines []line
	for name, e := range r.groups {
		if e.full > 0 {
			lines = append(lines, line{name, e.sends, e.full})
			e.sends, e.full = 0, 0
		}
	}
	r.mu.Unlock()
	for _, l := range lines {
		r.log.Warn("layer: group send skipped members whose channels are full",
			"group", l.group, "skipped", l.full, "sends", l.sends)
	}
}
