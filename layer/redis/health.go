package redis

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Telling "no message yet" from "Redis does not answer".
//
// A Receive that waits has a blocking pop outstanding, which a healthy
// server leaves unanswered for up to Config.BlockTime as readily as a
// stopped one does. So a shard notes when it last answered anything, and
// a Receive that has waited quietWait without the shard answering since
// it began sends it a PING, one at a time per shard. A Receive whose
// context ends while that PING has gone unanswered for probeGrace, or
// after it failed, reports ErrUnavailable with the context's error. A
// busy shard answers something all the time and is never probed; an
// idle one gets at most one PING per quietWait.

const (
	quietWait  = 100 * time.Millisecond
	probeGrace = 50 * time.Millisecond
	// probeTimeout bounds a PING; it is also how long Close may wait
	// for one.
	probeTimeout = 2 * time.Second
)

// health is what a shard's receivers know of its answers, as Unix
// nanoseconds.
type health struct {
	heard    atomic.Int64 // the last answer on any of the layer's connections to it
	probeAt  atomic.Int64 // when the PING in flight was sent; 0: none
	failedAt atomic.Int64 // when the last PING failed
}

// heardHook records answers on the clients a layer makes.
type heardHook struct{ h *health }

func (heardHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (k heardHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		k.note(err)
		return err
	}
}

func (k heardHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		k.note(err)
		return err
	}
}

// note counts a reply, an error reply included, as an answer.
func (k heardHook) note(err error) {
	if err == nil || errors.Is(err, goredis.Nil) || !isOutage(err) {
		k.h.heard.Store(time.Now().UnixNano())
	}
}

// watch makes a Receive that began waiting at since probe sh once it has
// waited quietWait, or half of what ctx allows if that is less. Its stop
// function reports, once ctx has ended, whether sh seems not to answer.
func (l *Layer) watch(ctx context.Context, sh *shard, since int64) (stop func() bool) {
	wait := quietWait
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d)/2)
	}
	t := time.AfterFunc(wait, func() {
		if sh.health.heard.Load() < since {
			l.probe(sh)
		}
	})
	return func() bool {
		t.Stop()
		h := sh.health
		if h.heard.Load() >= since {
			return false
		}
		now := time.Now().UnixNano()
		at := h.probeAt.Load()
		return at != 0 && now-at >= int64(probeGrace) || h.failedAt.Load() >= since
	}
}

// probe sends sh a PING unless one is in flight.
func (l *Layer) probe(sh *shard) {
	now := time.Now().UnixNano()
	if !sh.health.probeAt.CompareAndSwap(0, now) {
		return
	}
	if !l.start() {
		sh.health.probeAt.Store(0)
		return
	}
	go func() {
		defer l.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		err := sh.cmd.Ping(ctx).Err()
		cancel()
		if err != nil && isOutage(err) {
			sh.health.failedAt.Store(time.Now().UnixNano())
		} else {
			sh.health.heard.Store(time.Now().UnixNano())
		}
		sh.health.probeAt.Store(0)
	}()
}

// silent is the error of a Receive whose context ended while Redis did
// not answer: it wraps both the context's error and ErrUnavailable.
func silent(ctx context.Context, channel string) error {
	return &opError{op: "receive from", name: channel, outage: true,
		err: fmt.Errorf("%w, and Redis did not answer meanwhile", context.Cause(ctx))}
}
