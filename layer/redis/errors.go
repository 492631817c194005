package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboard-bots/switchboard/layer"
)

// Errors the layer reports besides those of the layer package. Each wraps
// its layer counterpart where there is one, so that callers written
// against any backend keep working with errors.Is.
var (
	// ErrChannelFull reports a send to a channel that holds its capacity
	// of unexpired messages.
	ErrChannelFull = fmt.Errorf("redis: %w", layer.ErrChannelFull)
	// ErrClosed reports an operation on a closed layer.
	ErrClosed = fmt.Errorf("redis: %w", layer.ErrClosed)
	// ErrInvalidName reports a name the layer cannot use.
	ErrInvalidName = fmt.Errorf("redis: %w", layer.ErrInvalidName)
	// ErrForeignChannel reports a Receive on a process-local channel that
	// another process made: only the process that made it can receive
	// from it, since the messages of all its channels share one key.
	ErrForeignChannel = fmt.Errorf("redis: process-local channel of another process: %w", layer.ErrInvalidName)
	// ErrUnavailable wraps failures to reach Redis, so that callers can
	// tell an outage from a refusal.
	ErrUnavailable = errors.New("redis: server unavailable")
	// ErrConfig reports a configuration that can never work.
	ErrConfig = errors.New("redis: invalid config")
	// ErrDecrypt reports a message that no configured key decrypts.
	ErrDecrypt = errors.New("redis: cannot decrypt message")
)

// opError is an operation's failure: what was attempted on which name,
// and why. It unwraps to both the cause and, for outages, ErrUnavailable.
type opError struct {
	op, name string
	err      error
	outage   bool
}

func (e *opError) Error() string {
	return fmt.Sprintf("redis: %s %q: %s", e.op, e.name, strings.TrimPrefix(e.err.Error(), "redis: "))
}

func (e *opError) Unwrap() []error {
	if e.outage {
		return []error{e.err, ErrUnavailable}
	}
	return []error{e.err}
}

// fail wraps err, a failure of a Redis call, as an opError. Redis replies
// that are errors (a script error, a wrong type) are refusals, everything
// else (I/O, timeouts, a closed pool) is an outage.
func fail(op, name string, err error) error {
	return &opError{op: op, name: name, err: err, outage: isOutage(err)}
}

// failCtx is fail for a call bounded by ctx: once ctx has ended, which
// is what cut the call short, the error wraps ctx's error too. The
// connection's deadline is ctx's, and may pass a moment before ctx
// reports it, so a deadline in the past counts as ended.
func failCtx(ctx context.Context, op, name string, err error) error {
	cerr := ctx.Err()
	if d, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(d) {
		cerr = context.DeadlineExceeded
	}
	if cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return fail(op, name, err)
}

func isOutage(err error) bool {
	var re goredis.Error
	if !errors.As(err, &re) {
		return true
	}
	// Replies that mean "not now" rather than "never": a server loading
	// its data after a restart, a replica not yet promoted, a cluster
	// resharding.
	for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"} {
		if strings.HasPrefix(re.Error(), p) {
			return true
		}
	}
	return false
}

// refuse reports that op on name was refused for reason, one of the
// sentinel errors above.
func refuse(op, name string, reason error) error {
	return &opError{op: op, name: name, err: reason}
}

// nameError is a name refused by the layer package's rules, reported
// under this package's ErrInvalidName.
type nameError struct{ err error }

func (e *nameError) Error() string   { return "redis: " + e.err.Error() }
func (e *nameError) Unwrap() []error { return []error{ErrInvalidName, e.err} }

func invalid(err error) error {
	if err == nil {
		return nil
	}
	return &nameError{err}
}
