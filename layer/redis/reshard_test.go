package redis_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

// TestClusterReshard moves the slots of two channels in use from one
// master to another, as redis-cli --cluster reshard does: the target
// imports the slot, the source migrates it, the slot's keys are moved
// with MIGRATE, and every master is told the slot's new owner. Meanwhile
// each channel has a goroutine sending numbered messages to it and
// another receiving them. The receiver of work stays behind, so that its
// key always holds messages and MIGRATE moves it, and every fifth of its
// messages goes through a group whose key lies on the third master; its
// slot moves in steps, with messages flowing at each. The receiver of
// idle keeps up, so that its key is mostly empty, and its slot moves at
// once while its receive loop waits in a blocking pop on the source. The
// cluster client follows the ASK and MOVED redirections itself, so
// nothing is lost, duplicated or reordered; an operation that does fail
// may only fail as unavailable, and such a send may still have arrived.
// Afterwards the keys live on the target, with a time to live.
func TestClusterReshard(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	source, target, third := c.nodes[0], c.nodes[1], c.nodes[2]
	logs := &logRecorder{}
	cfg := clusterConfig(c)
	cfg.Prefix = "reshard"
	l := newLayer(t, cfg, redis.WithLogger(slog.New(logs)))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	room := channelsOn(t, c, "room", third)[0]
	var failure firstError
	// The receiver of work leaves ten messages in its key; the sender of
	// idle waits for each message to be received before the next.
	work := newStream(l, channelsOn(t, c, "work", source)[0], room, 20, 10, &failure)
	idle := newStream(l, channelsOn(t, c, "idle", source)[0], "", 1, 0, &failure)
	streams := []*stream{work, idle}
	src, dst := source.client(), target.client()
	defer src.Close()
	defer dst.Close()
	var slots []int64
	for _, s := range streams {
		s.key = cfg.Prefix + "{" + s.channel + "}"
		slot, err := src.ClusterKeySlot(ctx, s.key).Result()
		must(t, err)
		slots = append(slots, slot)
	}
	if slots[0] == slots[1] {
		t.Fatalf("%s and %s share slot %d", work.channel, idle.channel, slots[0])
	}
	must(t, l.GroupAdd(ctx, room, work.channel))

	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	for _, s := range streams {
		s.start(ctx, &wg)
	}
	// progress waits until every stream has sent and received more
	// messages, failing at once if a goroutine has.
	progress := func(what string, nWork, nIdle int64) {
		t.Helper()
		type goal struct {
			s          *stream
			sent, recv int64
		}
		goals := []goal{
			{work, work.sentOK.Load() + nWork, work.received.Load() + nWork},
			{idle, idle.sentOK.Load() + nIdle, idle.received.Load() + nIdle},
		}
		waitFor(t, 20*time.Second, what, func(context.Context) error {
			if err := failure.get(); err != nil {
				t.Fatal(err)
			}
			for _, g := range goals {
				if n, m := g.s.sentOK.Load(), g.s.received.Load(); n < g.sent || m < g.recv {
					return fmt.Errorf("%s: sent %d of %d, received %d of %d", g.s.channel, n, g.sent, m, g.recv)
				}
			}
			return nil
		})
	}
	progress("messages flowing before the move", 50, 5)

	// idle's slot moves at once, as redis-cli moves a slot, while its
	// receive loop waits in a blocking pop on the source, which Redis
	// answers with MOVED once the slot has left.
	func() {
		idle.hold.Lock()
		defer idle.hold.Unlock()
		waitFor(t, 10*time.Second, idle.channel+"'s receive loop blocked on "+source.Addr, func(ctx context.Context) error {
			return blockedIn(ctx, source, "bzpopmin")
		})
		reshard(t, c, slots[1], source, target, nil, nil)
	}()
	progress("messages after idle's slot moved", 50, 5)

	// work's slot moves in steps, with messages flowing at each.
	migrated := reshard(t, c, slots[0], source, target, func() {
		// work's key is still on the source, which serves it as before.
		progress("messages while work's slot is migrating", 50, 3)
	}, func() {
		// work's key is on the target now: the source sends the layer
		// there with ASK, for sends, group sends and receives alike.
		progress("messages after MIGRATE", 100, 3)
	})
	if !slices.Contains(migrated, work.key) {
		t.Errorf("MIGRATE moved %v, not %s, which always holds messages", migrated, work.key)
	}
	moved := time.Now()
	// work's key holds messages throughout, and keeps its time to live
	// on the target, as MIGRATE moved it and as sends there set it.
	waitFor(t, 5*time.Second, work.key+"'s time to live on "+target.Addr, func(ctx context.Context) error {
		return ttlOf(ctx, target, work.key, true)
	})
	progress("messages after the move", 200, 10)
	for _, s := range streams {
		close(s.stop)
	}
	wg.Wait()
	t.Logf("%s after the move, messages flow through %s", time.Since(moved), target.Addr)
	for _, s := range streams {
		s.check(t)
	}

	// The layer went through both states of the slots: the source told it
	// to ask the target while they were migrating, and a node told it of
	// the new owner once they were moved (unless its map was reloaded
	// after an ASK in between, which sends it straight to the target).
	stats := make([]map[string]int, len(c.nodes))
	for i, s := range c.nodes {
		stats[i] = errorStats(t, s)
		t.Logf("errors %s replied: %v", s.Addr, stats[i])
	}
	if stats[0]["ASK"] == 0 {
		t.Errorf("%s never replied ASK: the layer did not use the slots while they were migrating", source.Addr)
	}

	// A receive loop's failures are logged, not returned: they must be
	// outages too.
	for _, r := range logs.all() {
		t.Logf("layer log: %s %s %v", r.Level, r.Message, attrs(r))
		if r.Level >= slog.LevelError {
			t.Errorf("layer logged %s: %s %v", r.Level, r.Message, attrs(r))
		}
		r.Attrs(func(a slog.Attr) bool {
			if err, ok := a.Value.Any().(error); ok && !errors.Is(err, redis.ErrUnavailable) {
				t.Errorf("layer logged %q with %v; want ErrUnavailable", r.Message, err)
			}
			return true
		})
	}

	for i, s := range streams {
		// A key the receiver emptied is gone; one still there must
		// have its time to live.
		waitFor(t, 5*time.Second, s.key+"'s time to live on "+target.Addr, func(ctx context.Context) error {
			return ttlOf(ctx, target, s.key, false)
		})
		// The key lives on the target, and only there.
		must(t, l.Send(ctx, s.channel, layertest.Ping{N: -2}))
		if n, err := dst.Exists(ctx, s.key).Result(); err != nil || n != 1 {
			t.Errorf("EXISTS %s on the target %s: %d, %v; want 1", s.key, target.Addr, n, err)
		}
		if n, err := dst.ClusterCountKeysInSlot(ctx, int(slots[i])).Result(); err != nil || n != 1 {
			t.Errorf("CLUSTER COUNTKEYSINSLOT %d on the target %s: %d, %v; want 1", slots[i], target.Addr, n, err)
		}
		if n, err := src.ClusterCountKeysInSlot(ctx, int(slots[i])).Result(); err != nil || n != 0 {
			t.Errorf("CLUSTER COUNTKEYSINSLOT %d on the source %s: %d, %v; want 0", slots[i], source.Addr, n, err)
		}
		waitFor(t, 5*time.Second, s.key+"'s time to live on "+target.Addr, func(ctx context.Context) error {
			return ttlOf(ctx, target, s.key, true)
		})
		expectPing(ctx, t, l, s.channel, -2)
	}
	// The group, on the third master, still reaches its member.
	must(t, l.GroupSend(ctx, room, layertest.Ping{N: -3}))
	expectPing(ctx, t, l, work.channel, -3)
}

// stream is a goroutine sending numbered messages to a channel of a
// layer and another receiving them, checking that they arrive in order
// and at most once. The sender stays at most window messages ahead of the
// receiver, and with lag the receiver takes message n only once message
// n+lag was sent: so the channel never fills, and its key holds at least
// lag messages until the stream stops. Without lag the receiver waits in
// Receive for the next message.
type stream struct {
	l       *redis.Layer
	channel string
	key     string // the channel's key, for the test's checks
	group   string // every fifth message goes through it, if set
	lag     int
	failure *firstError

	hold    sync.Mutex    // held to keep the sender from sending
	tokens  chan struct{} // one per message the receiver has yet to take
	credits chan struct{} // one per message sent; closed once the last is
	stop    chan struct{} // closed to have the sender send the last message

	sentOK, received atomic.Int64
	sent             []sendRecord // by message number; the sender's until it ends
	got              []layertest.Ping
}

type sendRecord struct {
	text string // "" for a send, "group" for a group send, "end" for the last
	err  error
}

func newStream(l *redis.Layer, channel, group string, window, lag int, failure *firstError) *stream {
	return &stream{
		l: l, channel: channel, group: group, lag: lag, failure: failure,
		tokens:  make(chan struct{}, window),
		credits: make(chan struct{}, window+lag+1),
		stop:    make(chan struct{}),
	}
}

func (s *stream) start(ctx context.Context, wg *sync.WaitGroup) {
	wg.Go(func() {
		if err := s.sendAll(ctx); err != nil {
			s.failure.set(fmt.Errorf("sending to %s: %w", s.channel, err))
		}
	})
	wg.Go(func() {
		if err := s.receiveAll(ctx); err != nil {
			s.failure.set(fmt.Errorf("receiving from %s: %w", s.channel, err))
		}
	})
}

// release gives back the token of a message taken, or of a send that
// failed; a failed send that arrived all the same has none left.
func (s *stream) release() {
	select {
	case <-s.tokens:
	default:
	}
}

func (s *stream) send(ctx context.Context, n int, text string) error {
	var err error
	if text == "group" {
		err = s.l.GroupSend(ctx, s.group, layertest.Ping{N: n, Text: text})
	} else {
		err = s.l.Send(ctx, s.channel, layertest.Ping{N: n, Text: text})
	}
	s.sent = append(s.sent, sendRecord{text, err})
	switch {
	case err == nil:
		s.sentOK.Add(1)
		select {
		case s.credits <- struct{}{}:
		default: // the receiver is ahead by failed sends that arrived
		}
		return nil
	case errors.Is(err, redis.ErrUnavailable):
		return nil
	}
	return fmt.Errorf("message %d: %w; want success or ErrUnavailable", n, err)
}

func (s *stream) sendAll(ctx context.Context) error {
	for n := 0; ; n++ {
		select {
		case <-s.stop:
			// The last message ends the receiver's loop; it is sent
			// until a send succeeds.
			defer close(s.credits)
			for ; ; n++ {
				if err := s.send(ctx, n, "end"); err != nil || s.sent[n].err == nil {
					return err
				}
				if ctx.Err() != nil {
					return fmt.Errorf("the last message: %w", s.sent[n].err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		case s.tokens <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("message %d: %w", n, ctx.Err())
		}
		s.hold.Lock() // waits while the test holds it
		s.hold.Unlock()
		text := ""
		if s.group != "" && n%5 == 4 {
			text = "group"
		}
		if err := s.send(ctx, n, text); err != nil {
			return err
		}
		if s.sent[n].err != nil {
			s.release()
		}
	}
}

func (s *stream) receiveAll(ctx context.Context) error {
	last := -1
	for i := 0; ; i++ {
		// Each message waits for the one lag messages later, the first
		// for all those before that too.
		for j := 0; s.lag > 0 && (j < 1 || i == 0 && j <= s.lag); j++ {
			select {
			case <-s.credits:
			case <-ctx.Done():
				return fmt.Errorf("after message %d: %w", last, ctx.Err())
			}
		}
		ev, err := s.l.Receive(ctx, s.channel)
		if err != nil {
			return fmt.Errorf("after message %d: %w", last, err)
		}
		p, err := event.Decode[layertest.Ping](ev)
		if err != nil {
			return fmt.Errorf("after message %d got %v: %w", last, ev, err)
		}
		if p.N <= last {
			return fmt.Errorf("message %d after %d: twice or out of order", p.N, last)
		}
		last = p.N
		s.got = append(s.got, p)
		s.received.Add(1)
		s.release()
		if p.Text == "end" {
			return nil
		}
	}
}

// check fails t unless every message whose send succeeded arrived; the
// receiver checked that none arrived twice or out of order. A message
// whose send failed may have arrived too.
func (s *stream) check(t *testing.T) {
	t.Helper()
	if err := s.failure.get(); err != nil {
		t.Fatal(err)
	}
	arrived := make(map[int]string, len(s.got))
	for _, p := range s.got {
		arrived[p.N] = p.Text
	}
	var failed, failedArrived, groups int
	for n, r := range s.sent {
		text, ok := arrived[n]
		switch {
		case ok && text != r.text:
			t.Errorf("%s: message %d arrived as %q, sent as %q", s.channel, n, text, r.text)
		case r.err == nil && !ok:
			t.Errorf("%s: message %d (%q) was sent but never arrived", s.channel, n, r.text)
		case r.err != nil:
			failed++
			t.Logf("%s: message %d (%q) failed: %v", s.channel, n, r.text, r.err)
			if ok {
				failedArrived++
			}
		}
		if r.text == "group" {
			groups++
		}
	}
	for n := range arrived {
		if n >= len(s.sent) {
			t.Errorf("%s: message %d arrived but was never sent", s.channel, n)
		}
	}
	t.Logf("%s: %d messages, %d of them group sends, %d failed, %d of those arrived",
		s.channel, len(s.sent), groups, failed, failedArrived)
}

// firstError keeps the first error set.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// reshard moves slot from one master of c to another as redis-cli
// --cluster reshard does, and returns the keys MIGRATE moved. migrating
// runs once the slot is migrating, before its keys move; migrated once
// they have, before the masters are told the slot's new owner.
func reshard(t *testing.T, c *cluster, slot int64, from, to *server, migrating, migrated func()) []string {
	t.Helper()
	ctx := t.Context()
	a, b := from.client(), to.client()
	defer a.Close()
	defer b.Close()
	fromID, err := a.ClusterMyID(ctx).Result()
	must(t, err)
	toID, err := b.ClusterMyID(ctx).Result()
	must(t, err)
	must(t, b.Do(ctx, "cluster", "setslot", slot, "importing", fromID).Err())
	must(t, a.Do(ctx, "cluster", "setslot", slot, "migrating", toID).Err())
	if migrating != nil {
		migrating()
	}
	var moved []string
	for {
		keys, err := a.ClusterGetKeysInSlot(ctx, int(slot), 100).Result()
		must(t, err)
		if len(keys) == 0 {
			break
		}
		args := []any{"migrate", "127.0.0.1", to.port, "", 0, 5000, "keys"}
		for _, k := range keys {
			args = append(args, k)
		}
		// NOKEY, a reply rather than an error, if the keys were emptied
		// since.
		if res, err := a.Do(ctx, args...).Text(); err != nil {
			t.Fatalf("MIGRATE %v from %s to %s: %v", keys, from.Addr, to.Addr, err)
		} else if res == "OK" {
			moved = append(moved, keys...)
		}
	}
	t.Logf("MIGRATE moved %v of slot %d from %s to %s", moved, slot, from.Addr, to.Addr)
	if migrated != nil {
		migrated()
	}
	// The target first, then the source, then the others.
	order := []*server{to, from}
	for _, s := range c.nodes {
		if s != to && s != from {
			order = append(order, s)
		}
	}
	for _, s := range order {
		x := s.client()
		err := x.Do(ctx, "cluster", "setslot", slot, "node", toID).Err()
		_ = x.Close()
		must(t, err)
	}
	for _, s := range c.nodes {
		waitFor(t, 10*time.Second, s.Addr+" naming the new master of slot "+strconv.FormatInt(slot, 10), func(ctx context.Context) error {
			owner, err := slotOwner(ctx, s, slot)
			if err == nil && owner != to.Addr {
				err = fmt.Errorf("CLUSTER SLOTS names %s", owner)
			}
			return err
		})
	}
	return moved
}

// slotOwner returns the address of the master s says serves slot.
func slotOwner(ctx context.Context, s *server, slot int64) (string, error) {
	a := s.client()
	defer a.Close()
	ranges, err := a.ClusterSlots(ctx).Result()
	if err != nil {
		return "", err
	}
	for _, r := range ranges {
		if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
			return r.Nodes[0].Addr, nil
		}
	}
	return "", fmt.Errorf("slot %d is in no range of CLUSTER SLOTS", slot)
}

// ttlOf reports nil if key on s has a time to live, or, unless it must
// exist, does not exist.
func ttlOf(ctx context.Context, s *server, key string, exist bool) error {
	a := s.client()
	defer a.Close()
	// PTTL as a number: go-redis turns -1 and -2 into durations.
	ms, err := a.Do(ctx, "pttl", key).Int64()
	if err == nil && (ms == -1 || exist && ms == -2) {
		err = fmt.Errorf("PTTL %s on %s: %d", key, s.Addr, ms)
	}
	return err
}

var errorStat = regexp.MustCompile(`(?m)^errorstat_([A-Z]+):count=(\d+)`)

// errorStats returns how many error replies of each kind s has sent, by
// their first word (ASK, MOVED, ...).
func errorStats(t testing.TB, s *server) map[string]int {
	t.Helper()
	a := s.client()
	defer a.Close()
	info, err := a.Info(context.Background(), "errorstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	stats := make(map[string]int)
	for _, m := range errorStat.FindAllStringSubmatch(info, -1) {
		stats[m[1]], _ = strconv.Atoi(m[2])
	}
	return stats
}

func attrs(r slog.Record) []slog.Attr {
	var as []slog.Attr
	r.Attrs(func(a slog.Attr) bool {
		as = append(as, a)
		return true
	})
	return as
}
