package session

import (
	"context"
	"errors"
	"time"
)

// Errors of stores. Test for them with errors.Is.
var (
	// ErrConflict: a Save named a version that is no longer the stored one;
	// another writer saved (or deleted) the value since it was loaded.
	ErrConflict = errors.New("session: version conflict")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("session: store closed")
)

// Record is one stored value and its version.
type Record struct {
	// Data is the stored value. A Record that Load returns shares Data
	// with the store: read it, do not modify it.
	Data []byte
	// Version identifies this value among every value the key has held.
	// 0 means that nothing is stored under the key.
	Version uint64
	// Value is the value as a ValueStore's SaveValue kept it, in a Record
	// that LoadValue returns; Data is then nil. Like Data, it is shared
	// with the store: read it, do not modify it.
	Value any
}

// ValueStore is implemented by stores that keep values in the process's
// memory (the memory backend): they can keep a value as the Go value it
// is, so that a consumer's state is neither encoded when saved nor
// decoded when loaded by the process that saved it. Values are encoded
// only when some Load asks for their Data.
type ValueStore interface {
	Store
	// LoadValue is Load, except that a value kept by SaveValue comes as
	// it is, in Record.Value, with no Data, and that when the stored
	// version is have, the Record holds the version alone: the caller
	// has that value already. Callers with no value pass 0.
	LoadValue(ctx context.Context, key string, have uint64) (Record, error)
	// SaveValue is Save of v, kept as it is: v must not be modified after
	// the call (a value with no pointers, maps or slices cannot be; a
	// pointer to one must not be written through). encode turns v into
	// the Data a Load returns, when one asks.
	//
	// spare is the value v replaced when no Load or LoadValue has handed
	// it out, else nil: nobody holds it but the store, which lets it go,
	// so the caller may take it as its own and write its next value into
	// it. A state saved after every event then needs no new memory for
	// each.
	SaveValue(ctx context.Context, key string, v any, encode func(any) ([]byte, error), version uint64, ttl time.Duration) (newVersion uint64, spare any, err error)
}

// Store holds versioned values under keys. All methods are safe for
// concurrent use, from one process or many sharing the backend.
//
// Versions are opaque: a Save returns the new one, and no version is ever
// handed out twice for one key, not even after the key expired or was
// deleted, so that a writer holding a version read before a delete cannot
// overwrite what was saved after it.
type Store interface {
	// Load returns the value stored under key, or a Record with Version 0
	// and no Data when there is none (never stored, expired, deleted).
	Load(ctx context.Context, key string) (Record, error)
	// Save stores data under key if the stored version is still version
	// (0: nothing is stored), keeps it for ttl from now (0: until
	// deleted), and returns the new version. The store may keep data:
	// the caller must not modify it after the call. It fails with ErrConflict,
	// storing nothing, when the stored version is another.
	Save(ctx context.Context, key string, data []byte, version uint64, ttl time.Duration) (uint64, error)
	// Delete removes the value under key, whatever its version. Deleting a
	// key with no value is not an error.
	Delete(ctx context.Context, key string) error
}

// Update loads the value under key, passes it to fn, and saves what fn
// returns, loading and calling fn again when another writer saved in
// between, up to attempts times (at least once). fn gets the stored data
// (nil when there is none) and returns the new data; it must not keep the
// data it gets. The result is the saved Record. When every attempt
// conflicts, the error wraps ErrConflict.
func Update(ctx context.Context, st Store, key string, ttl time.Duration, attempts int, fn func(old []byte) ([]byte, error)) (Record, error) {
	var err error
	for range max(attempts, 1) {
		var r Record
		if r, err = st.Load(ctx, key); err != nil {
			return Record{}, err
		}
		var data []byte
		if data, err = fn(r.Data); err != nil {
			return Record{}, err
		}
		var v uint64
		v, err = st.Save(ctx, key, data, r.Version, ttl)
		if err == nil {
			return Record{Data: data, Version: v}, nil
		}
		if !errors.Is(err, ErrConflict) {
			return Record{}, err
		}
	}
	return Record{}, err
}
