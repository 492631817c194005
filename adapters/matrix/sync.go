package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix"
	mevent "maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// syncFilter asks for up to 100 timeline events per room and sync, so
// that a bot back from a short stop gets its backlog whole (a timeline cut
// short is logged).
const syncFilter = `{"room":{"timeline":{"limit":100}}}`

// syncer runs the /sync loop of one Serve. Each sync's events form a
// batch; the stored position moves past a batch once every event of it
// and of the batches before it was handled, and the ids handled in the
// batches after that position are stored beside it, so that a restart,
// which gets those batches again, handles none of them twice.
type syncer struct {
	a   *Adapter
	in  *adapters.Intake
	log *slog.Logger

	mu       sync.Mutex
	done     map[string]bool // handled, from the store: skipped when synced again
	batches  []*batch        // synced and not wholly handled, in order
	position string          // stored position: every event before it was handled
	inflight int             // events given to scopes (or parked) and not acknowledged
	progress chan struct{}   // closed and replaced at each acknowledgement
	parked   map[string][]inbound
	drains   sync.WaitGroup
	dirty    chan struct{}      // a new State waits to be saved
	stopping atomic.Bool        // the loop ended: what is not handled now is left to the next process
	refusing map[id.RoomID]bool // encrypted rooms already told so
}

func newSyncer(a *Adapter, in *adapters.Intake, st State) *syncer {
	s := &syncer{a: a, in: in, log: a.log, position: st.NextBatch,
		done: map[string]bool{}, progress: make(chan struct{}), parked: map[string][]inbound{},
		dirty: make(chan struct{}, 1), refusing: map[id.RoomID]bool{}}
	for _, h := range st.Handled {
		s.done[h] = true
	}
	return s
}

// run syncs until ctx ends or the token is refused. Before it returns it
// hands the parked messages over, waits (until the Intake's grace ends)
// for what was taken to be handled, and saves where that leaves it.
func (s *syncer) run(ctx context.Context) error {
	saver := make(chan struct{})
	stopSaver := make(chan struct{})
	go func() { defer close(saver); s.saveLoop(stopSaver) }()
	stop := context.AfterFunc(ctx, func() { s.stopping.Store(true) })
	defer stop()
	err := s.loop(ctx)
	s.stopping.Store(true)
	s.drains.Wait()
	s.settle(s.in.Grace())
	// After a hard stop (or Shutdown's deadline) the handlers still
	// running were cancelled, and the Host waits a moment for them: wait
	// as long, so that what they finish is stored as handled.
	wait, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.a.clock.After(scope.DefaultCloseWait):
		case <-wait.Done():
		}
		cancel()
	}()
	s.settle(wait)
	cancel()
	close(stopSaver)
	<-saver
	s.save(context.WithoutCancel(ctx)) // a hard stop still records what was handled
	return err
}

func (s *syncer) loop(ctx context.Context) error {
	a := s.a
	since := s.position
	fresh := since == "" // a first start: the rooms' history is not answered
	if fresh {
		s.log.Info("matrix: no stored sync position: starting at the present; earlier messages are not handled")
	}
	backoff := a.cfg.Retry.MinBackoff
	for ctx.Err() == nil {
		if !s.waitRoom(ctx) {
			return nil
		}
		cctx, cancel := context.WithTimeout(ctx, a.cfg.Sync.Timeout+a.cfg.RequestTimeout)
		resp, err := a.sync(cctx, since)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if unauthorized(err) {
				return fmt.Errorf("%w: %w", ErrUnauthorized, err)
			}
			wait, _ := retryable(err)
			wait = max(wait, backoff)
			s.log.Warn("matrix: sync failed; retrying", "err", err, "retry_in", wait)
			if adapters.Sleep(ctx, a.clock, wait) != nil {
				return nil
			}
			a.observe().Retry()
			backoff = min(2*backoff, a.cfg.Retry.MaxBackoff)
			continue
		}
		backoff = a.cfg.Retry.MinBackoff
		s.take(ctx, since, resp, fresh)
		if fresh {
			// Store the first position before handling anything: a
			// process killed before its first write would otherwise
			// start at the present again, and skip what came between.
			s.save(ctx)
		}
		since, fresh = resp.NextBatch, false
		s.in.Ready()
	}
	return nil
}

// waitRoom waits while sync.max_pending events are in flight.
func (s *syncer) waitRoom(ctx context.Context) bool {
	for {
		s.mu.Lock()
		n, progress := s.inflight, s.progress
		s.mu.Unlock()
		if n < s.a.cfg.Sync.MaxPending {
			return true
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return false
		}
	}
}

// syncResponse is the part of a /sync answer the adapter reads, with each
// event kept as sent: one malformed event is skipped alone rather than
// failing the whole answer, which would stall the sync for good, and a
// Message keeps its event's JSON byte for byte.
type syncResponse struct {
	NextBatch string `json:"next_batch"`
	Rooms     struct {
		Join map[id.RoomID]struct {
			State    struct{ Events []json.RawMessage } `json:"state"`
			Timeline struct {
				Events    []json.RawMessage `json:"events"`
				Limited   bool              `json:"limited"`
				PrevBatch string            `json:"prev_batch"`
			} `json:"timeline"`
		} `json:"join"`
		Invite map[id.RoomID]struct {
			InviteState struct{ Events []json.RawMessage } `json:"invite_state"`
		} `json:"invite"`
	} `json:"rooms"`
}

// sync makes one /sync request from since.
func (a *Adapter) sync(ctx context.Context, since string) (*syncResponse, error) {
	q := mautrix.ReqSync{Timeout: int(a.cfg.Sync.Timeout / time.Millisecond), Since: since, FilterID: syncFilter}
	var resp syncResponse
	_, err := a.cli.MakeFullRequest(ctx, mautrix.FullRequest{Method: http.MethodGet,
		URL: a.cli.BuildURLWithQuery(mautrix.ClientURLPath{"v3", "sync"}, q.BuildQuery()), ResponseJSON: &resp, MaxAttempts: 1})
	if err != nil {
		return nil, err
	}
	if resp.NextBatch == "" {
		return nil, errors.New("matrix: sync answer without next_batch")
	}
	return &resp, nil
}

// gap returns, oldest first, the events of room between since and
// prevBatch that a sync cut short (limited) left out, paging back through
// /messages; at most sync.max_pending of them, the latest. What it could
// not fetch is logged: those events are not handled.
func (s *syncer) gap(ctx context.Context, room id.RoomID, prevBatch, since string) []json.RawMessage {
	a := s.a
	var evs []json.RawMessage
	from := prevBatch
	for from != "" && len(evs) < a.cfg.Sync.MaxPending {
		var page struct {
			Chunk []json.RawMessage `json:"chunk"`
			End   string            `json:"end"`
		}
		q := map[string]string{"from": from, "to": since, "dir": "b", "limit": "100"}
		err := a.call(ctx, "messages", func(ctx context.Context) error {
			_, err := a.cli.MakeFullRequest(ctx, mautrix.FullRequest{Method: http.MethodGet, MaxAttempts: 1, ResponseJSON: &page,
				URL: a.cli.BuildURLWithQuery(mautrix.ClientURLPath{"v3", "rooms", room, "messages"}, q)})
			return err
		})
		if err != nil {
			s.log.Error("matrix: could not fetch the events a sync left out; they are not handled",
				"room", room, "from", from, "fetched", len(evs), "err", err)
			break
		}
		evs = append(evs, page.Chunk...)
		if len(page.Chunk) == 0 || page.End == from {
			break
		}
		from = page.End
	}
	if from != "" && len(evs) >= a.cfg.Sync.MaxPending {
		s.log.Warn("matrix: a sync left out more events than sync.max_pending; the older ones are not handled",
			"room", room, "fetched", len(evs))
	}
	slices.Reverse(evs)
	s.log.Info("matrix: fetched the events a sync left out", "room", room, "events", len(evs))
	return evs
}

// parsed is an event of a sync answer, and its JSON as sent.
type parsed struct {
	*mevent.Event
	raw json.RawMessage
}

// events parses raw events, logging and skipping those that are not
// events.
func (s *syncer) events(room id.RoomID, raws []json.RawMessage) []parsed {
	evs := make([]parsed, 0, len(raws))
	for _, raw := range raws {
		var ev mevent.Event
		if err := json.Unmarshal(raw, &ev); err != nil || ev.Type.Type == "" {
			s.log.Warn("matrix: malformed event skipped", "room", room, "err", err, "bytes", len(raw))
			continue
		}
		ev.RoomID = room
		evs = append(evs, parsed{Event: &ev, raw: raw})
	}
	return evs
}

// take hands over what one sync brought: invites are joined, messages
// from others given to their scopes; on a first start (fresh) messages
// are history and are skipped.
func (s *syncer) take(ctx context.Context, since string, resp *syncResponse, fresh bool) {
	b := &batch{token: resp.NextBatch, open: true}
	s.mu.Lock()
	s.batches = append(s.batches, b)
	s.mu.Unlock()
	for room, inv := range resp.Rooms.Invite {
		s.invited(ctx, room, s.events(room, inv.InviteState.Events))
	}
	skipped := 0
	for room, jr := range resp.Rooms.Join {
		for _, ev := range s.events(room, jr.State.Events) {
			s.state(ctx, room, ev.Event)
		}
		timeline := jr.Timeline.Events
		if jr.Timeline.Limited && !fresh {
			timeline = append(s.gap(ctx, room, jr.Timeline.PrevBatch, since), timeline...)
		}
		for _, ev := range s.events(room, timeline) {
			if ev.StateKey != nil {
				s.state(ctx, room, ev.Event)
				continue
			}
			if fresh && ev.Type.Type == mevent.EventMessage.Type {
				skipped++
				continue
			}
			s.timeline(room, ev, b)
		}
	}
	if skipped > 0 {
		s.log.Info("matrix: first sync: earlier messages skipped", "messages", skipped)
	}
	s.mu.Lock()
	b.open = false
	s.advanceLocked()
	s.mu.Unlock()
}

// timeline gives one timeline event to its scope if it is a message from
// someone else.
func (s *syncer) timeline(room id.RoomID, ev parsed, b *batch) {
	a := s.a
	switch {
	case ev.Sender == id.UserID(a.Bot()):
		return // the bot's own messages come back to it in its timeline
	case ev.Type.Type == mevent.EventEncrypted.Type:
		s.log.Warn("matrix: encrypted message not handled: end-to-end encryption is not supported",
			"room", room, "event_id", ev.ID, "sender", ev.Sender)
		return
	case ev.Type.Type != mevent.EventMessage.Type:
		return
	}
	msg, err := decodeMessage(room, ev.Event, ev.raw)
	if err != nil {
		s.log.Warn("matrix: bad message skipped", "room", room, "event_id", ev.ID, "err", err)
		return
	}
	if msg.MsgType == "m.notice" {
		// Notices are what bots send; answering them is how two bots
		// loop (the specification asks clients not to).
		s.log.Debug("matrix: notice not handled", "room", room, "event_id", ev.ID, "sender", ev.Sender)
		return
	}
	s.mu.Lock()
	if s.done[msg.EventID] {
		// Handled before a restart that came before its batch was stored.
		b.handled = append(b.handled, msg.EventID)
		s.dirtyLocked()
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	key := string(room)
	t := target{room: string(room)}
	if a.cfg.Threads && msg.Thread != "" {
		key += "|" + msg.Thread
		t.thread = msg.Thread
	}
	newScope := func() *scope.Scope {
		sc := &scope.Scope{Type: Protocol, Adapter: a.name, Key: key,
			User:   scope.User{ID: msg.Sender, Username: msg.Sender},
			Bot:    scope.User{ID: a.Bot(), Username: a.Bot()},
			Chat:   scope.Chat{ID: string(room), Type: "room"},
			Thread: t.thread}
		sc.SetAdapterValue(t)
		return sc
	}
	s.deliver(inbound{key: key, msg: msg, b: b, s: newScope})
}
