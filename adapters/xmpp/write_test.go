package xmpp_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/xmpp"
)

// A write's context ends with its caller's while the write runs, and not
// once the write is done: the session would otherwise fail the next write
// of another goroutine with an i/o timeout.
func TestWriteContextEndsOnlyWhileWriting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	wctx, done := xmpp.WhileWriting(ctx)
	cancel()
	<-wctx.Done() // the caller's end reaches a write under way
	done()

	ctx, cancel = context.WithCancel(context.Background())
	wctx, done = xmpp.WhileWriting(ctx)
	done()
	cancel()
	// Were the caller's end still to reach it, it would from a goroutine
	// of its own: give that goroutine every chance to run.
	for range 1000 {
		runtime.Gosched()
	}
	if err := wctx.Err(); err != nil {
		t.Fatalf("a write's context ended after the write was done: %v", err)
	}
}
