package telegram

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// poller is one term of getUpdates long polling.
//
// Telegram confirms updates by offset: a getUpdates with an offset above
// an update's id forgets it for good. So the offset sent is always the
// lowest update taken and not yet handled (the watermark), never just the
// highest fetched: whatever was taken but not handled when the process
// dies comes back to the next poller. The updates above the watermark that
// were handled meanwhile come back too: this process drops them by
// update_id; a process started after a crash handles them again, so an
// update is handled twice only if it was taken and not yet confirmed when
// the process died.
//
// A chat whose inbox is full does not stop the others: its updates are
// parked in order and delivered by a goroutine of their own as the inbox
// drains, while polling goes on for other chats. Since the watermark
// cannot pass an update in flight, the lookahead is bounded by what one
// getUpdates returns past it, and by polling.max_parked; at the bound
// polling pauses until the slow chat takes an update: backpressure
// reaches Telegram instead of memory growing or updates being dropped.
type poller struct {
	a  *Adapter
	in *adapters.Intake

	mu        sync.Mutex
	ids       []taken // taken and not yet confirmed, in id order, from the watermark on
	offset    int64   // the watermark: the getUpdates offset to send
	sent      int64   // the highest offset Telegram saw
	parked    map[string][]inbound
	nparked   int
	progress  chan struct{} // closed when the watermark moves or an update is queued or freed, if waited on
	waiting   bool          // someone holds progress
	since     int64         // the offset of the poll its holder waits to follow; anyProgress: it waits for any
	freed     int           // updates in ids that were freed
	unhandled int           // updates in ids still queued: given out (or parked), not yet handled
	drains    sync.WaitGroup
	buf       bytes.Buffer // the last poll's answer, which its updates alias
}

// taken is an update this poller took from Telegram.
type taken struct {
	id int64
	st takenState
}

type takenState uint8

const (
	queued  takenState = iota // given to its scope (or parked), not yet handled
	handled                   // handled: the watermark may pass it
	freed                     // will not be handled here: take it again when it comes
)

func newPoller(a *Adapter, in *adapters.Intake) *poller {
	return &poller{a: a, in: in, parked: map[string][]inbound{}, progress: make(chan struct{})}
}

// run polls until fetch ends or Telegram refuses the token. Before it
// returns it hands the parked updates over, waits (until the Intake's
// grace ends) for what was taken to be handled, and confirms the
// watermark to Telegram.
func (p *poller) run(fetch context.Context) error {
	err := p.loop(fetch)
	p.drains.Wait()
	p.settle(p.in.Grace())
	p.commit(p.in.Grace())
	return err
}

func (p *poller) loop(fetch context.Context) error {
	a := p.a
	backoff, idle := a.cfg.Retry.MinBackoff, a.cfg.Retry.MinBackoff
	for fetch.Err() == nil {
		if !p.waitRoom(fetch) {
			return nil
		}
		p.mu.Lock()
		offset, busy := p.offset, len(p.ids) > 0
		p.mu.Unlock()
		timeout := a.cfg.Polling.Timeout
		if busy {
			// Updates are in flight: poll again soon, so that what they
			// confirm reaches Telegram within a second, not a long poll.
			timeout = min(timeout, time.Second)
		}
		ups, err := p.getUpdates(fetch, offset, a.cfg.Polling.Limit, timeout)
		if err != nil {
			if fetch.Err() != nil {
				return nil
			}
			var ae *APIError
			if !(errors.As(err, &ae) && ae.Code == 429) {
				p.in.Unreachable(err)
			}
			switch {
			case errors.As(err, &ae) && ae.Code == 401:
				return err
			case errors.As(err, &ae) && ae.Code == 429:
				a.log.Warn("telegram: getUpdates flood control; pausing", "adapter", a.cfg.Name, "retry_after", ae.RetryAfter)
				_ = adapters.Sleep(fetch, a.clock, max(ae.RetryAfter, a.cfg.Retry.MinBackoff))
				continue
			case errors.As(err, &ae) && ae.Code == 409:
				a.log.Warn("telegram: getUpdates conflict: a webhook is set or another process polls this token (use a Lease)",
					"adapter", a.cfg.Name, "err", err, "backoff", backoff)
			default:
				a.log.Warn("telegram: getUpdates failed; retrying", "adapter", a.cfg.Name, "err", err, "backoff", backoff)
			}
			_ = adapters.Sleep(fetch, a.clock, backoff)
			backoff = min(2*backoff, a.cfg.Retry.MaxBackoff)
			continue
		}
		backoff = a.cfg.Retry.MinBackoff
		p.in.Reachable()
		if len(ups) == 0 {
			idle = a.cfg.Retry.MinBackoff
			continue
		}
		fresh := 0
		for _, raw := range ups {
			id, isNew := p.take(raw)
			if isNew {
				fresh++
			}
			if offset == 0 {
				// The first poll sent none: it began at its first update.
				// The watermark read later may have moved past it already.
				offset = id
			}
		}
		// Everything this poll returned is taken now, and Telegram answers
		// the same at once until the watermark moves: each poll from the
		// watermark returns again what was taken, so the next one is worth
		// its call once the watermark moved a step past this poll's
		// offset, and brings that many new updates (see step).
		var again <-chan time.Time
		if len(ups) < a.cfg.Polling.Limit {
			// Telegram had no more: new updates may come at any time, and
			// while updates are in flight a poll does not wait for them,
			// so look again after a pause that grows to a second.
			if fresh > 0 {
				idle = a.cfg.Retry.MinBackoff
			}
			again = a.clock.After(idle)
			idle = min(2*idle, time.Second)
		}
		p.waitWorth(fetch, offset, again)
	}
	return nil
}

// anyProgress is the since of a waiter woken by any progress.
const anyProgress = -1

// waitWorth waits until polling again is worth a call after a poll from
// offset (see worthLocked), again fires or fetch ends.
func (p *poller) waitWorth(fetch context.Context, offset int64, again <-chan time.Time) {
	for {
		p.mu.Lock()
		if p.worthLocked(offset) {
			p.mu.Unlock()
			return
		}
		progress := p.progressLocked(offset)
		p.mu.Unlock()
		select {
		case <-progress:
		case <-again:
			return
		case <-fetch.Done():
			return
		}
	}
}

// worthLocked reports whether a poll is worth its call after one from
// offset that filled the window: the watermark moved past what that poll
// returned first, so that Telegram has new updates to give. A poll from
// the watermark carries the whole window, what is in hand included, so it
// costs about as much (in the round trip, the transfer and the scan of its
// answer) whatever it brings new; polling at every step of the watermark
// would make a call for a few updates each. So it waits until
//
//   - the watermark moved half a poll's limit: the next poll brings at
//     least as many new updates as it returns again; or
//   - at most half the limit is left to handle, in whatever order the
//     rest was handled, and the watermark moved a fifth of the limit: the
//     handlers would otherwise run out of work during the round trip, as
//     they do while a slow update near the watermark holds it back and
//     the ones above it are handled. With the half step alone, half the
//     polls of the echo benchmark were answered when 5 updates or fewer
//     were left to handle; a fifth still brings a useful batch; or
//   - everything taken was handled, or an update was freed to be taken
//     again.
func (p *poller) worthLocked(offset int64) bool {
	limit := int64(p.a.cfg.Polling.Limit)
	moved := p.offset - offset
	return moved >= max(1, limit/2) ||
		moved >= max(1, limit/5) && int64(p.unhandled) <= limit/2 ||
		len(p.ids) == 0 || p.freed > 0
}

// progressLocked returns a channel closed at the next progress: any
// progress when since is anyProgress, else only once worthLocked(since)
// holds, so that a waiter for a worthwhile poll is not woken at every
// handled update.
func (p *poller) progressLocked(since int64) <-chan struct{} {
	p.waiting = true
	p.since = since
	return p.progress
}

// signalLocked wakes whoever waits for progress. Nobody waits most of the
// time, and then it costs nothing.
func (p *poller) signalLocked() {
	if p.waiting && (p.since == anyProgress || p.worthLocked(p.since)) {
		close(p.progress)
		p.progress = make(chan struct{})
		p.waiting = false
	}
}

// waitRoom waits while polling.max_parked updates are parked.
func (p *poller) waitRoom(fetch context.Context) bool {
	for {
		p.mu.Lock()
		n, progress := p.nparked, p.progressLocked(anyProgress)
		p.mu.Unlock()
		if n < p.a.cfg.Polling.MaxParked {
			return true
		}
		select {
		case <-progress:
		case <-fetch.Done():
			return false
		}
	}
}

func (p *poller) getUpdates(ctx context.Context, offset int64, limit int, timeout time.Duration) ([]json.RawMessage, error) {
	form := url.Values{}
	if offset != 0 {
		form.Set("offset", strconv.FormatInt(offset, 10))
	}
	form.Set("limit", strconv.Itoa(limit))
	if t := int(timeout / time.Second); t != 0 {
		form.Set("timeout", strconv.Itoa(t))
	}
	if len(p.a.cfg.AllowedUpdates) > 0 {
		b, err := json.Marshal(p.a.cfg.AllowedUpdates)
		if err != nil {
			return nil, err
		}
		form.Set("allowed_updates", string(b))
	}
	cctx, cancel := context.WithTimeout(ctx, timeout+p.a.cfg.RequestTimeout)
	defer cancel()
	// The answer goes into p.buf, which the next poll reuses: take copies
	// the updates it keeps.
	ups, err := p.a.api.getUpdates(cctx, form, &p.buf)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.sent = max(p.sent, offset)
	p.mu.Unlock()
	return ups, nil
}

var errNotList = errors.New("not a JSON array")

// splitList splits a JSON array into its elements, which alias b, without
// decoding them. Most of what a poll returns while updates are in flight
// was taken already and is told by its leading update_id alone; the fresh
// updates are decoded, and so validated, one by one. Decoding the whole
// list instead would scan every update several times per poll.
func splitList(b []byte) ([]json.RawMessage, error) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '[' {
		return nil, errNotList
	}
	var out []json.RawMessage
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			end, err := valueEnd(b, i)
			if err != nil {
				return nil, err
			}
			out = append(out, b[i:end])
			i = skipSpace(b, end)
			if i == len(b) {
				return nil, errNotList
			}
			if b[i] == ']' {
				i++
				break
			}
			if b[i] != ',' {
				return nil, errNotList
			}
			i = skipSpace(b, i+1)
		}
	}
	if skipSpace(b, i) != len(b) {
		return nil, errNotList
	}
	return out, nil
}

// valueEnd returns where the JSON value starting at b[i] ends: past its
// closing bracket or quote, or before the delimiter after a literal.
func valueEnd(b []byte, i int) (int, error) {
	if i == len(b) {
		return 0, errNotList
	}
	switch b[i] {
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, err := stringEnd(b, i)
				if err != nil {
					return 0, err
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, nil
				}
			}
		}
		return 0, errNotList
	case '"':
		return stringEnd(b, i)
	case ',', ']', '}', ':':
		return 0, errNotList
	}
	for i < len(b) && !isSpace(b[i]) && b[i] != ',' && b[i] != ']' {
		i++
	}
	return i, nil
}

// stringEnd returns the index past the closing quote of the string that
// starts at b[i].
func stringEnd(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errNotList
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// take takes and delivers one fetched update. It returns its id (0 if it
// has none) and reports false for an update already taken (in flight, or
// handled and not yet confirmed).
func (p *poller) take(raw json.RawMessage) (id int64, isNew bool) {
	a := p.a
	// Most of what a poll returns in a busy chat was taken already: tell
	// by the id, which leads Telegram's JSON, before decoding the rest.
	if id, ok := leadingID(raw); ok && !p.fresh(id) {
		return id, false
	}
	// The event keeps its raw JSON: a copy, not a slice of the poll's
	// answer, which would keep the whole answer alive.
	raw = bytes.Clone(raw)
	in, err := decodeUpdate(raw, a.cfg.KeyBy)
	if err != nil {
		var head struct {
			ID int64 `json:"update_id"`
		}
		if json.Unmarshal(raw, &head) != nil || head.ID <= 0 {
			// Without an id the update cannot be confirmed or skipped;
			// Telegram never sends one, so this is logged and ignored.
			a.log.Error("telegram: update without update_id ignored", "adapter", a.cfg.Name, "err", err)
			return 0, true
		}
		in = inbound{id: head.ID}
	}
	p.mu.Lock()
	if in.id < p.offset {
		p.mu.Unlock()
		return in.id, false
	}
	i, found := p.findLocked(in.id)
	switch {
	case found && p.ids[i].st != freed:
		p.mu.Unlock()
		return in.id, false
	case found:
		p.ids[i].st = queued
		p.freed--
	default:
		p.ids = slices.Insert(p.ids, i, taken{id: in.id})
	}
	p.unhandled++
	if p.offset == 0 {
		p.offset = in.id
	}
	if err != nil || a.handled.has(in.id) {
		// A bad update is skipped; one handled in an earlier term (of a
		// lease) is not handled again.
		p.setLocked(in.id, handled)
		p.mu.Unlock()
		if err != nil {
			a.log.Error("telegram: bad update skipped", "adapter", a.cfg.Name, "update_id", in.id, "err", err)
		}
		return in.id, true
	}
	if q, busy := p.parked[in.key]; busy {
		p.parked[in.key] = append(q, in)
		p.nparked++
		p.mu.Unlock()
		return in.id, true
	}
	p.mu.Unlock()
	err = p.in.TryDeliver(in.key, in.ev, a.newScope(in), p.acker(in.id))
	switch {
	case err == nil:
	case errors.Is(err, scope.ErrInboxFull), errors.Is(err, scope.ErrTooManyScopes):
		p.mu.Lock()
		p.parked[in.key] = []inbound{in}
		p.nparked++
		p.mu.Unlock()
		p.drains.Go(func() { p.drain(in.key) })
	default:
		// Stopping: the update stays unconfirmed and comes back to the
		// next poller.
		p.set(in.id, freed)
		a.log.Debug("telegram: update not delivered", "adapter", a.cfg.Name, "update_id", in.id, "err", err)
	}
	return in.id, true
}

// acker returns the Ack of update id: handled, or to be taken again.
func (p *poller) acker(id int64) scope.Ack {
	return func(err error) {
		if p.a.log.Enabled(context.Background(), slog.LevelDebug) {
			// One line per update, for an operator following a bot at
			// debug level; checked first, as the fields cost allocations.
			if err != nil {
				p.a.log.Debug("telegram: update not handled here; it will be fetched again", "adapter", p.a.cfg.Name, "update_id", id, "err", err)
			} else {
				p.a.log.Debug("telegram: update handled", "adapter", p.a.cfg.Name, "update_id", id)
			}
		}
		if err != nil {
			p.set(id, freed)
			return
		}
		p.a.handled.add(id)
		p.set(id, handled)
	}
}

// drain delivers a chat's parked updates in order, waiting for room.
func (p *poller) drain(key string) {
	ctx := p.in.Grace()
	backoff := p.a.cfg.Retry.MinBackoff
	for {
		p.mu.Lock()
		q := p.parked[key]
		if len(q) == 0 {
			delete(p.parked, key)
			p.mu.Unlock()
			return
		}
		in := q[0]
		p.mu.Unlock()
		err := p.in.Deliver(ctx, key, in.ev, p.a.newScope(in), p.acker(in.id))
		if errors.Is(err, scope.ErrTooManyScopes) && adapters.Sleep(ctx, p.a.clock, backoff) == nil {
			backoff = min(2*backoff, p.a.cfg.Retry.MaxBackoff)
			continue
		}
		p.mu.Lock()
		if err != nil {
			// Stopping: what is left stays unconfirmed.
			for _, u := range p.parked[key] {
				p.setLocked(u.id, freed)
			}
			p.nparked -= len(p.parked[key])
			delete(p.parked, key)
			p.signalLocked()
			p.mu.Unlock()
			return
		}
		p.parked[key] = p.parked[key][1:]
		p.nparked--
		p.signalLocked()
		p.mu.Unlock()
	}
}

func (p *poller) findLocked(id int64) (int, bool) {
	return slices.BinarySearchFunc(p.ids, id, func(t taken, id int64) int { return cmp.Compare(t.id, id) })
}

func (p *poller) set(id int64, st takenState) {
	p.mu.Lock()
	p.setLocked(id, st)
	p.mu.Unlock()
}

// fresh reports whether update id is not taken (or was freed).
func (p *poller) fresh(id int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id < p.offset {
		return false
	}
	i, found := p.findLocked(id)
	return !found || p.ids[i].st == freed
}

// leadingID reads the update_id of an update that starts with it, as
// Telegram's do: {"update_id":123,...}.
func leadingID(raw []byte) (int64, bool) {
	const head = `{"update_id":`
	if len(raw) <= len(head) || string(raw[:len(head)]) != head {
		return 0, false
	}
	var id int64
	n := 0
	for _, c := range raw[len(head):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
		n++
	}
	return id, n > 0 && n < 19
}

// setLocked records what became of update id, and moves the watermark
// past the handled prefix.
func (p *poller) setLocked(id int64, st takenState) {
	if i, found := p.findLocked(id); found {
		p.countLocked(p.ids[i].st, -1)
		p.countLocked(st, 1)
		p.ids[i].st = st
	}
	n := 0
	for n < len(p.ids) && p.ids[n].st == handled {
		n++
	}
	if n > 0 {
		p.offset = p.ids[n-1].id + 1
		p.ids = p.ids[n:]
	}
	p.signalLocked()
}

// countLocked adds d to the count of updates in state st.
func (p *poller) countLocked(st takenState, d int) {
	switch st {
	case queued:
		p.unhandled += d
	case freed:
		p.freed += d
	}
}

// settle waits until nothing taken is still being handled, or ctx ends.
func (p *poller) settle(ctx context.Context) {
	for {
		p.mu.Lock()
		busy := p.unhandled > 0
		progress := p.progressLocked(anyProgress)
		p.mu.Unlock()
		if !busy {
			return
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return
		}
	}
}

// commit confirms the watermark to Telegram, so that a successor does not
// get again what this poller handled. It is best effort: it is tried even
// after a hard stop ended ctx, since one short call saves a successor from
// handling again everything this poller finished, and a process that dies
// without it leaves those updates to be handled again.
func (p *poller) commit(ctx context.Context) {
	p.mu.Lock()
	offset, sent := p.offset, p.sent
	p.mu.Unlock()
	if offset <= sent {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.a.cfg.RequestTimeout)
	defer cancel()
	params := tgbotapi.Params{"offset": strconv.FormatInt(offset, 10), "limit": "1", "timeout": "0"}
	if err := p.a.api.do(cctx, "getUpdates", params, nil, nil); err != nil {
		p.a.log.Warn("telegram: could not confirm handled updates; they will be handled again",
			"adapter", p.a.cfg.Name, "offset", offset, "err", err)
	}
}
