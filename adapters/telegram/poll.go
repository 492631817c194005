package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboard-bots/switchboard/scope"
)

// poller is one term of getUpdates long polling.
//
// Telegram confirms updates by offset: the next getUpdates with an offset
// above an update's id forgets it for good. So the offset sent is always
// the lowest update not yet accepted by its scope's inbox (the
// watermark), never just the highest fetched: whatever was fetched but
// not accepted when the process dies comes back to the next poller.
//
// A chat whose inbox is full does not stop the others: its updates are
// parked in order and delivered by a goroutine of their own as the inbox
// drains, while polling goes on for other chats. Since the watermark
// cannot pass a parked update, the lookahead is bounded by what one
// getUpdates returns past it, and by polling.max_parked; at the bound
// polling pauses until the slow chat takes an update: backpressure
// reaches Telegram instead of memory growing or updates being dropped.
type poller struct {
	a *Adapter
	m *scope.Manager

	mu       sync.Mutex
	ids      []claimed // fetched, in id order, from the watermark on
	offset   int64     // the watermark: the getUpdates offset to send
	sent     int64     // the offset Telegram last saw
	parked   map[string][]parkedUpdate
	nparked  int
	progress chan struct{} // closed and replaced when a parked update is accepted
	drains   sync.WaitGroup
}

type claimed struct {
	id   int64
	done bool
}

type parkedUpdate struct{ in inbound }

// tryCtx is already done: Deliver with it queues the event if the inbox
// has room and fails at once with context.Canceled if it is full.
var tryCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

func newPoller(a *Adapter, m *scope.Manager) *poller {
	return &poller{a: a, m: m, parked: map[string][]parkedUpdate{}, progress: make(chan struct{})}
}

// run polls until fetch ends or Telegram refuses the token, delivering
// with ctx. Before it returns, parked updates are given until ctx ends to
// be accepted, and the watermark is confirmed to Telegram.
func (p *poller) run(fetch, ctx context.Context) error {
	err := p.loop(fetch, ctx)
	p.drains.Wait()
	p.commit(ctx)
	// What was claimed and not accepted must be taken again when Telegram
	// sends it again, to this process's next poller or another's.
	p.mu.Lock()
	for _, c := range p.ids {
		if !c.done {
			p.a.dedupe.remove(c.id)
		}
	}
	p.mu.Unlock()
	return err
}

func (p *poller) loop(fetch, ctx context.Context) error {
	a := p.a
	backoff, idle := a.cfg.Retry.MinBackoff, a.cfg.Retry.MinBackoff
	for fetch.Err() == nil {
		if !p.waitRoom(fetch) {
			return nil
		}
		p.mu.Lock()
		progress, offset := p.progress, p.offset
		p.mu.Unlock()
		ups, err := p.getUpdates(fetch, offset, a.cfg.Polling.Limit, a.cfg.Polling.Timeout)
		if err != nil {
			if fetch.Err() != nil {
				return nil
			}
			var ae *APIError
			switch {
			case errors.As(err, &ae) && ae.Code == 401:
				return err
			case errors.As(err, &ae) && ae.Code == 429:
				a.log.Warn("telegram: getUpdates flood control; pausing", "adapter", a.cfg.Name, "retry_after", ae.RetryAfter)
				_ = sleep(fetch, a.clock, max(ae.RetryAfter, a.cfg.Retry.MinBackoff))
				continue
			case errors.As(err, &ae) && ae.Code == 409:
				a.log.Warn("telegram: getUpdates conflict: a webhook is set or another process polls this token (use a Lease)",
					"adapter", a.cfg.Name, "err", err, "backoff", backoff)
			default:
				a.log.Warn("telegram: getUpdates failed; retrying", "adapter", a.cfg.Name, "err", err, "backoff", backoff)
			}
			_ = sleep(fetch, a.clock, backoff)
			backoff = min(2*backoff, a.cfg.Retry.MaxBackoff)
			continue
		}
		backoff = a.cfg.Retry.MinBackoff
		fresh := 0
		for _, raw := range ups {
			if p.take(ctx, raw) {
				fresh++
			}
		}
		if fresh > 0 || len(ups) == 0 {
			idle = a.cfg.Retry.MinBackoff
			continue
		}
		// Everything returned was taken already (parked behind a full
		// inbox): Telegram answers the same at once, without a long
		// poll, until a parked update is accepted. When the answer was
		// short of the limit, new updates may still come after it, so
		// look again after a pause that grows to a second.
		var again <-chan time.Time
		if len(ups) < a.cfg.Polling.Limit {
			again = a.clock.After(idle)
			idle = min(2*idle, time.Second)
		}
		select {
		case <-progress:
		case <-again:
		case <-fetch.Done():
		}
	}
	return nil
}

// waitRoom waits while polling.max_parked updates are parked.
func (p *poller) waitRoom(fetch context.Context) bool {
	for {
		p.mu.Lock()
		n, progress := p.nparked, p.progress
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
	params := tgbotapi.Params{}
	params.AddNonZero64("offset", offset)
	params.AddNonZero("limit", limit)
	params.AddNonZero("timeout", int(timeout/time.Second))
	if err := params.AddInterface("allowed_updates", p.a.cfg.AllowedUpdates); err != nil {
		return nil, err
	}
	if len(p.a.cfg.AllowedUpdates) == 0 {
		delete(params, "allowed_updates")
	}
	cctx, cancel := context.WithTimeout(ctx, timeout+p.a.cfg.RequestTimeout)
	defer cancel()
	res, err := p.a.api.do(cctx, "getUpdates", params, nil)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.sent = max(p.sent, offset)
	p.mu.Unlock()
	var ups []json.RawMessage
	if err := json.Unmarshal(res, &ups); err != nil {
		return nil, &NetError{Method: "getUpdates", msg: "result is not a list of updates: " + err.Error()}
	}
	return ups, nil
}

// take claims and delivers one fetched update. It reports false for an
// update already claimed (parked or accepted and not yet confirmed).
func (p *poller) take(ctx context.Context, raw json.RawMessage) bool {
	a := p.a
	in, err := decodeUpdate(raw, a.cfg.KeyBy)
	if err != nil {
		var head struct {
			ID int64 `json:"update_id"`
		}
		if json.Unmarshal(raw, &head) != nil || head.ID <= 0 {
			// Without an id the update cannot be confirmed or skipped;
			// Telegram never sends one, so this is logged and ignored.
			a.log.Error("telegram: update without update_id ignored", "adapter", a.cfg.Name, "err", err)
			return true
		}
		in = inbound{id: head.ID}
	}
	p.mu.Lock()
	if in.id < p.offset || !a.dedupe.add(in.id) {
		p.mu.Unlock()
		return false
	}
	p.ids = append(p.ids, claimed{id: in.id})
	if p.offset == 0 {
		p.offset = in.id
	}
	if err != nil {
		p.acceptLocked(in.id)
		p.mu.Unlock()
		a.log.Error("telegram: bad update skipped", "adapter", a.cfg.Name, "update_id", in.id, "err", err)
		return true
	}
	if q, busy := p.parked[in.key]; busy {
		p.parked[in.key] = append(q, parkedUpdate{in})
		p.nparked++
		p.mu.Unlock()
		return true
	}
	p.mu.Unlock()
	err = p.m.Deliver(tryCtx, in.key, in.ev, a.newScope(in))
	switch {
	case err == nil:
		p.accept(in.id)
	case errors.Is(err, context.Canceled), errors.Is(err, scope.ErrTooManyScopes):
		p.mu.Lock()
		p.parked[in.key] = []parkedUpdate{{in}}
		p.nparked++
		p.mu.Unlock()
		p.drains.Add(1)
		go p.drain(ctx, in.key)
	default:
		// The manager is closing: the update stays unconfirmed and comes
		// back to the next poller.
		a.log.Debug("telegram: update not delivered", "adapter", a.cfg.Name, "update_id", in.id, "err", err)
	}
	return true
}

// drain delivers a chat's parked updates in order, waiting for room.
func (p *poller) drain(ctx context.Context, key string) {
	defer p.drains.Done()
	backoff := p.a.cfg.Retry.MinBackoff
	for {
		p.mu.Lock()
		q := p.parked[key]
		if len(q) == 0 {
			delete(p.parked, key)
			p.mu.Unlock()
			return
		}
		in := q[0].in
		p.mu.Unlock()
		err := p.m.Deliver(ctx, key, in.ev, p.a.newScope(in))
		if errors.Is(err, scope.ErrTooManyScopes) {
			if sleep(ctx, p.a.clock, backoff) != nil {
				return
			}
			backoff = min(2*backoff, p.a.cfg.Retry.MaxBackoff)
			continue
		}
		if err != nil {
			return // stopping: what is left stays unconfirmed
		}
		p.mu.Lock()
		p.parked[key] = p.parked[key][1:]
		p.nparked--
		p.acceptLocked(in.id)
		close(p.progress)
		p.progress = make(chan struct{})
		p.mu.Unlock()
	}
}

func (p *poller) accept(id int64) {
	p.mu.Lock()
	p.acceptLocked(id)
	p.mu.Unlock()
}

// acceptLocked marks id accepted and moves the watermark past the
// accepted prefix.
func (p *poller) acceptLocked(id int64) {
	for i := len(p.ids) - 1; i >= 0; i-- {
		if p.ids[i].id == id {
			p.ids[i].done = true
			break
		}
	}
	n := 0
	for n < len(p.ids) && p.ids[n].done {
		n++
	}
	if n > 0 {
		p.offset = p.ids[n-1].id + 1
		p.ids = p.ids[n:]
	}
}

// commit confirms the watermark to Telegram, so that a successor does not
// get again what this poller's scopes accepted. It is best effort: a
// process that dies without it leaves those updates to be delivered again
// (at least once).
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
	if _, err := p.a.api.do(cctx, "getUpdates", params, nil); err != nil {
		p.a.log.Warn("telegram: could not confirm accepted updates; they will be delivered again",
			"adapter", p.a.cfg.Name, "offset", offset, "err", err)
	}
}
