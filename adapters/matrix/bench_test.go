package matrix_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/matrix"
	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
)

// BenchmarkEcho: messages in 10 rooms through the fake homeserver, the
// adapter (with a file store written as they are handled) and the echo
// bot, to their answers. One op is one message answered.
func BenchmarkEcho(b *testing.B) {
	srv := matrixtest.New(b)
	rooms := make([]string, 10)
	for i := range rooms {
		rooms[i] = roomOf("r" + strconv.Itoa(i))
		srv.Joined(rooms[i])
	}
	cfg := testConfig(srv)
	cfg.Store = filepath.Join(b.TempDir(), "matrix.json")
	cfg.MaxInflight = 8
	run(b, newAdapter(b, cfg, nil), echo.New())
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		srv.Say(rooms[i%len(rooms)], user, "hello")
	}
	if _, err := srv.AwaitSent(b.N, time.Minute); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFileStoreSave: one write of the stored position, with a few
// handled ids, replaced atomically and synced to disk.
func BenchmarkFileStoreSave(b *testing.B) {
	fs := matrix.FileStore{Path: filepath.Join(b.TempDir(), "matrix.json")}
	st := matrix.State{NextBatch: "s123456", Handled: []string{"$a:example.org", "$b:example.org", "$c:example.org"}}
	ctx := context.Background()
	for b.Loop() {
		if err := fs.Save(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
}
