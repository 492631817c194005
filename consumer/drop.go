package consumer

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/scope"
)

// A message from the channel layer may come from any process that can
// write to the layer: a Django consumer, another bot, a script. One that
// the consumer cannot handle is the sender's mistake, so it is dropped,
// logged and counted, and the scope goes on; a platform event with no
// handler is still an UnknownEventError that ends the scope, because the
// adapter that sent it was checked against the consumer's handlers when
// the route was made (HandlesProtocol) and an event it has no handler for
// is the bot's own mistake.

// ErrUndecodable is wrapped by the error for a layer message whose fields
// do not decode into the event type of its handler (a text that is a
// number, a map where a string was expected).
var ErrUndecodable = errors.New("consumer: message does not decode into its handler's type")

// The reasons a consumer gives a DropObserver for a dropped layer message.
const (
	// DropNoHandler: the consumer has no handler for the message's type.
	DropNoHandler = "no_handler"
	// DropUndecodable: the message's fields do not decode into the event
	// type of its handler.
	DropUndecodable = "undecodable"
	// DropBacklogFull: the instance's inbox was full and so was the
	// backlog of layer messages waiting for room in it (see Backlog).
	DropBacklogFull = "backlog_full"
	// DropSendFailed: a group send the instance queued
	// (Base.QueueGroupSend) failed.
	DropSendFailed = "send_failed"
)

// ErrBacklogFull is wrapped by the error for a layer message dropped
// because the instance's inbox and its backlog were full: the consumer
// does not keep up with what is sent to it.
var ErrBacklogFull = errors.New("consumer: layer message backlog full")

// ErrSendFailed is wrapped, with the layer's error, by the error for a
// group send queued with Base.QueueGroupSend that failed.
var ErrSendFailed = errors.New("consumer: queued group send failed")

// DropObserver counts the layer messages that consumers drop; *ops.Metrics
// is one. It is called once for every dropped message, from the goroutine
// that received it (for a queued group send that failed, the layer's). typ is the message's type, valid UTF-8 of at most
// maxDropTypeLen bytes; once maxDropTypes types have been seen, and for a
// type that is not valid or too long, it is "other", so that a sender
// that makes up types cannot grow a metric without bound.
type DropObserver interface {
	LayerMessageDropped(typ, reason string)
}

// Clock is the source of time of the drop warnings' rate limit;
// *clocktest.Clock and any value with a Now method will do.
type Clock interface {
	Now() time.Time
}

// LayerOption configures WithLayer.
type LayerOption func(*drops)

// DefaultDropWarnEvery is how often, at most, consumers warn about the
// dropped layer messages of one type.
const DefaultDropWarnEvery = time.Minute

// ObserveDrops reports every dropped layer message to o. Default: none.
func ObserveDrops(o DropObserver) LayerOption { return func(d *drops) { d.obs = o } }

// DropWarnEvery sets how often, at most, a warning is logged for the
// dropped layer messages of one type; the drops in between are counted in
// the next warning's "suppressed" attribute and each reaches the
// DropObserver. Default: DefaultDropWarnEvery; zero or less warns about
// every drop.
func DropWarnEvery(every time.Duration) LayerOption { return func(d *drops) { d.every = every } }

// DefaultBacklog is how many layer messages, at most, wait for room in
// the inbox of one instance whose inbox is full.
const DefaultBacklog = 100

// Backlog sets how many layer messages, at most, wait for room in the
// inbox of an instance whose inbox is full; one more is dropped, counted
// and logged with reason DropBacklogFull. Default: DefaultBacklog, the
// default capacity of a layer channel, which bounded the same messages
// when they waited in the layer. Values below 1 mean 1.
func Backlog(n int) LayerOption { return func(d *drops) { d.backlog = max(n, 1) } }

// DropClock sets the clock of the warnings' rate limit. Default: the wall
// clock.
func DropClock(c Clock) LayerOption { return func(d *drops) { d.now = c.Now } }

// Bounds of the drop bookkeeping, which a foreign sender controls.
const (
	maxDropTypes   = 256
	maxDropTypeLen = 100
	otherDropType  = "other"
)

// drops logs and counts the layer messages the consumers below one
// WithLayer drop, with one warning per type per interval for all of them.
type drops struct {
	conv    Conversations // WithConversations; not a drop setting, but WithLayer's too
	obs     DropObserver
	every   time.Duration
	backlog int
	now     func() time.Time

	mu   sync.Mutex
	seen map[string]*dropped // by type, at most maxDropTypes
}

type dropped struct {
	warned     time.Time // of the last warning
	suppressed int       // drops since the last warning
}

func newDrops(opts []LayerOption) *drops {
	d := &drops{every: DefaultDropWarnEvery, backlog: DefaultBacklog, now: time.Now, seen: make(map[string]*dropped)}
	for _, o := range opts {
		o(d)
	}
	return d
}

// drop logs (rate-limited) and counts one dropped message.
func (d *drops) drop(log *slog.Logger, s *scope.Scope, channel string, ev event.Event, err error) {
	typ := ev.Type()
	reason := DropUndecodable
	switch {
	case errors.Is(err, ErrUnknownEvent):
		reason = DropNoHandler
	case errors.Is(err, ErrBacklogFull):
		reason = DropBacklogFull
	case errors.Is(err, ErrSendFailed):
		reason = DropSendFailed
	}
	key := typ
	if len(key) > maxDropTypeLen || !utf8.ValidString(key) {
		key = otherDropType
	}
	d.mu.Lock()
	e := d.seen[key]
	if e == nil && len(d.seen) >= maxDropTypes {
		key = otherDropType
		e = d.seen[key]
	}
	if e == nil {
		e = &dropped{}
		d.seen[key] = e
	}
	now := d.now()
	warn := e.warned.IsZero() || now.Sub(e.warned) >= d.every
	suppressed := e.suppressed
	if warn {
		e.warned, e.suppressed = now, 0
	} else {
		e.suppressed++
	}
	d.mu.Unlock()

	if d.obs != nil {
		d.obs.LayerMessageDropped(key, reason)
	}
	if warn {
		log.Warn("consumer: layer message dropped; the scope goes on",
			"type", typ, "channel", channel, "reason", reason, "err", err,
			"suppressed", suppressed, "scope", s.String())
	}
}

// accept checks a message from the layer before it enters the scope: it
// returns the message as its handler's event type, or an error wrapping
// ErrUnknownEvent or ErrUndecodable. The defaults of the ready-made
// consumers (accepting a WebSocket, closing on a binary frame) answer
// platform events only, so they do not take layer messages. A message
// that decodes into a final event is passed on as it came, so that
// decoding never turns a generic layer message into the end of the scope.
//
// The message is decoded through sh, so that the members of a group in one
// process that take it as the same Go type share one decoding: events are
// values that handlers must not modify.
func (t *App[P]) accept(sh *layer.Shared) (event.Event, error) {
	ev := sh.Event()
	typ := ev.Type()
	if h, ok := t.byType[typ]; ok {
		typed, err := sh.Convert(h.key, h.decode)
		if err != nil {
			return nil, fmt.Errorf("%w: %s, event %q: %w", ErrUndecodable, t.name, typ, err)
		}
		if _, final := typed.(scope.Final); final {
			return ev, nil
		}
		return typed, nil
	}
	for _, h := range t.matchers {
		if h.match(ev) {
			return ev, nil
		}
	}
	return nil, &UnknownEventError{Type: typ, Consumer: t.name}
}
