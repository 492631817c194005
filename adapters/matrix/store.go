package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// State is where the adapter stands in its account's sync stream: what
// it keeps across restarts.
type State struct {
	// NextBatch is the sync token up to which every event was handled:
	// the next sync starts there.
	NextBatch string `json:"next_batch"`
	// Handled lists the ids of the events after NextBatch that were
	// handled already, so that a restart, which gets them again, does not
	// handle them twice.
	Handled []string `json:"handled,omitempty"`
}

// Store keeps the adapter's State. Save is called from one goroutine at a
// time, with a State newer than the last; Load once, before the first
// sync.
type Store interface {
	// Load returns the State last saved, or the zero State if none was.
	Load(ctx context.Context) (State, error)
	// Save replaces the saved State.
	Save(ctx context.Context, st State) error
}

// FileStore keeps the State in a JSON file, replaced atomically (written
// beside it, synced, renamed over it), so that a crash leaves the old
// State or the new one, never half of one.
type FileStore struct {
	Path string
}

var _ Store = FileStore{}

// Load implements Store.
func (f FileStore) Load(context.Context) (State, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("matrix: store: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("matrix: store %s: %w", f.Path, err)
	}
	return st, nil
}

// Save implements Store.
func (f FileStore) Save(_ context.Context, st State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), "."+filepath.Base(f.Path)+".*")
	if err != nil {
		return fmt.Errorf("matrix: store: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing to remove
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.Path)
	}
	if err != nil {
		return fmt.Errorf("matrix: store: %w", err)
	}
	return nil
}

// MemoryStore keeps the State in memory: for tests, and for adapters that
// may handle again, after a restart, what arrived while they were down
// (NextBatch empty makes the first sync skip the rooms' history).
type MemoryStore struct {
	mu sync.Mutex
	st State
}

var _ Store = (*MemoryStore)(nil)

// Load implements Store.
func (m *MemoryStore) Load(context.Context) (State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return State{NextBatch: m.st.NextBatch, Handled: slices.Clone(m.st.Handled)}, nil
}

// Save implements Store.
func (m *MemoryStore) Save(_ context.Context, st State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st = State{NextBatch: st.NextBatch, Handled: slices.Clone(st.Handled)}
	return nil
}
