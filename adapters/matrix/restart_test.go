package matrix_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/matrix"
	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
	"github.com/switchboard-bots/switchboard/internal/logtest"
)

// say posts n messages "<prefix>-<i>" in room and returns their ids.
func say(srv *matrixtest.Server, room, prefix string, n int) []string {
	var ids []string
	for i := range n {
		ids = append(ids, srv.Say(room, user, fmt.Sprintf("%s-%d", prefix, i)))
	}
	return ids
}

// awaitHandled waits until the recorder handled each of ids.
func awaitHandled(t *testing.T, r *recorder, ids []string) {
	t.Helper()
	for _, id := range ids {
		eventually(t, "message "+id+" handled", func() bool { return r.count(id) > 0 })
	}
}

// onceAcross checks that each of ids was handled exactly once by the
// recorders together.
func onceAcross(t *testing.T, ids []string, rs ...*recorder) {
	t.Helper()
	for _, id := range ids {
		n := 0
		for _, r := range rs {
			n += r.count(id)
		}
		if n != 1 {
			t.Errorf("message %s handled %d times across the restart, want once", id, n)
		}
	}
}

// TestRestartResumes: a bot stopped cleanly and started again with the
// same store (a file) handles what arrived while it was down, and nothing
// it handled before.
func TestRestartResumes(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	srv.Joined(roomOf("b"))
	srv.SetBatch(3) // a backlog spans several syncs
	cfg := testConfig(srv)
	cfg.Store = filepath.Join(t.TempDir(), "matrix.json")

	first := newRecorder()
	r1 := run(t, newAdapter(t, cfg, nil), first)
	before := append(say(srv, roomOf("a"), "a", 10), say(srv, roomOf("b"), "b", 10)...)
	awaitHandled(t, first, before)
	r1.shutdown(t)

	down := append(say(srv, roomOf("a"), "down-a", 10), say(srv, roomOf("b"), "down-b", 10)...)
	second := newRecorder()
	run(t, newAdapter(t, cfg, nil), second)
	after := say(srv, roomOf("a"), "after", 5)
	awaitHandled(t, second, append(down, after...))

	all := append(append(before, down...), after...)
	onceAcross(t, all, first, second)
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

// TestRestartAfterHardStop: a bot stopped hard (Run's context cancelled,
// no Shutdown) mid-stream, with one message's handler cut short and one
// queued behind it, is started again with the same store: it handles the
// cut and the queued message and what came meanwhile, once each, and
// nothing it had handled.
func TestRestartAfterHardStop(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	srv.Joined(roomOf("b"))
	cfg := testConfig(srv)
	cfg.Store = filepath.Join(t.TempDir(), "matrix.json")

	first := newRecorder()
	r1 := run(t, newAdapter(t, cfg, nil), first)
	handled := say(srv, roomOf("a"), "a", 5)
	awaitHandled(t, first, handled)
	blocked := srv.Say(roomOf("a"), user, "block me")
	queued := srv.Say(roomOf("a"), user, "queued behind it")
	other := say(srv, roomOf("b"), "b", 5)
	awaitHandled(t, first, other)
	// A handler counts a message before it answers; one killed while
	// answering is rightly handled again. Kill once they are stored.
	awaitStored(t, srv, cfg.Store, append(handled, other...))
	eventually(t, "the blocking message's handler began", func() bool { return first.began(blocked) })
	r1.kill(t)
	if !errors.Is(r1.err, context.Canceled) {
		t.Errorf("Run after a hard stop: %v, want context.Canceled", r1.err)
	}
	if first.count(blocked) != 0 || first.count(queued) != 0 {
		t.Fatalf("the hard stop did not cut the handlers short: blocked %d, queued %d", first.count(blocked), first.count(queued))
	}

	down := say(srv, roomOf("b"), "down", 3)
	second := newRecorder()
	close(second.release)
	run(t, newAdapter(t, cfg, nil), second)
	awaitHandled(t, second, append([]string{blocked, queued}, down...))
	onceAcross(t, append(append(append(handled, other...), blocked, queued), down...), first, second)
}

// awaitStored waits until the store file at path holds each of ids as
// handled.
func awaitStored(t *testing.T, srv *matrixtest.Server, path string, ids []string) {
	t.Helper()
	eventually(t, "the handled messages stored", func() bool {
		st, _ := matrix.FileStore{Path: path}.Load(context.Background())
		pos, _ := matrixtest.Position(st.NextBatch)
		for _, id := range ids {
			if srv.EventPosition(id) > pos && !slices.Contains(st.Handled, id) {
				return false
			}
		}
		return true
	})
}

// freezable is a store that stops saving when frozen, as a process killed
// outright (SIGKILL) saves nothing more.
type freezable struct {
	matrix.FileStore
	mu     sync.Mutex
	frozen bool
}

func (f *freezable) Save(ctx context.Context, st matrix.State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen {
		return nil
	}
	return f.FileStore.Save(ctx, st)
}

func (f *freezable) freeze() {
	f.mu.Lock()
	f.frozen = true
	f.mu.Unlock()
}

// TestKilledLosesNothing: a process killed outright saves nothing after
// the kill; its successor loses no message, and handles again only those
// handled after the last save (here exactly one, handled after the
// freeze).
func TestKilledLosesNothing(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	cfg := testConfig(srv)
	path := filepath.Join(t.TempDir(), "matrix.json")
	store := &freezable{FileStore: matrix.FileStore{Path: path}}

	first := newRecorder()
	r1 := run(t, newAdapter(t, cfg, nil, matrix.WithStore(store)), first)
	saved := say(srv, roomOf("a"), "saved", 5)
	awaitHandled(t, first, saved)
	awaitStored(t, srv, path, saved)
	store.freeze()
	lost := srv.Say(roomOf("a"), user, "handled after the last save")
	awaitHandled(t, first, []string{lost})
	r1.kill(t)

	down := say(srv, roomOf("a"), "down", 3)
	second := newRecorder()
	run(t, newAdapter(t, cfg, nil, matrix.WithStore(matrix.FileStore{Path: path})), second)
	awaitHandled(t, second, append([]string{lost}, down...))
	onceAcross(t, append(saved, down...), first, second)
	if n := first.count(lost) + second.count(lost); n != 2 {
		t.Errorf("the message handled after the last save was handled %d times, want twice (once per process)", n)
	}
}

// TestRestartFillsTheGap: when the homeserver answers the first sync
// after a restart with a timeline cut short (limited), the adapter pages
// back through /messages to the stored position: every message that came
// while it was down is handled, once, in order.
func TestRestartFillsTheGap(t *testing.T) {
	srv := matrixtest.New(t)
	srv.Joined(roomOf("a"))
	cfg := testConfig(srv)
	cfg.Store = filepath.Join(t.TempDir(), "matrix.json")
	first := newRecorder()
	r1 := run(t, newAdapter(t, cfg, nil), first)
	before := say(srv, roomOf("a"), "before", 3)
	awaitHandled(t, first, before)
	r1.shutdown(t)

	srv.SetTimelineLimit(4) // 25 messages and 3 answers: the sync holds 4, /messages the rest
	down := say(srv, roomOf("a"), "down", 25)
	second := newRecorder()
	var logs logtest.Buffer
	run(t, newAdapter(t, cfg, &logs), second)
	awaitHandled(t, second, down)
	logs.Await(t, "fetched the events a sync left out", timeout)
	onceAcross(t, append(before, down...), first, second)
	second.mu.Lock()
	got := strings.Join(second.texts, ",")
	second.mu.Unlock()
	var want []string
	for i := range 25 {
		want = append(want, fmt.Sprint("down-", i))
	}
	if got != strings.Join(want, ",") {
		t.Errorf("handled %s, want %s", got, strings.Join(want, ","))
	}
}
