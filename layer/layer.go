package layer

import (
	"context"
	"errors"

	"github.com/switchboard-bots/switchboard/event"
)

// Errors a Layer reports. Backends wrap them with the name of the channel
// or group involved, so callers test them with errors.Is.
var (
	// ErrChannelFull reports a send to a channel that holds its capacity
	// of messages.
	ErrChannelFull = errors.New("layer: channel full")
	// ErrClosed reports an operation on a closed layer.
	ErrClosed = errors.New("layer: closed")
	// ErrInvalidName reports a channel, group or prefix name that breaks
	// the naming rules; see ValidChannelName and ValidGroupName.
	ErrInvalidName = errors.New("layer: invalid name")
)

// Layer is a channel layer. All methods are safe for concurrent use.
//
// Names are checked on every call: an invalid name is an error wrapping
// ErrInvalidName, and an event without a type is an error wrapping
// event.ErrNoType. After Close every method returns an error wrapping
// ErrClosed.
type Layer interface {
	// Send queues msg on channel. It fails with ErrChannelFull when the
	// channel holds its capacity of unexpired messages.
	Send(ctx context.Context, channel string, msg event.Event) error

	// Receive takes the oldest unexpired message from channel, waiting
	// until one arrives, ctx ends or the layer is closed. When it returns
	// an error no message was taken: a Receive that gives up leaves the
	// message for the next one. Concurrent receivers on one channel get
	// distinct messages.
	Receive(ctx context.Context, channel string) (event.Event, error)

	// NewChannel returns a fresh process-local channel name that starts
	// with prefix and contains one "!", such as "specific.!Xk2...". The
	// name is unique within the layer; no channel is created until it is
	// used.
	NewChannel(ctx context.Context, prefix string) (string, error)

	// GroupAdd makes channel a member of group, or refreshes its
	// membership, which lapses after the layer's group expiry.
	GroupAdd(ctx context.Context, group, channel string) error

	// GroupDiscard removes channel from group. Discarding a channel that
	// is not a member is not an error.
	GroupDiscard(ctx context.Context, group, channel string) error

	// GroupSend sends msg to every member of group. Members whose channel
	// is full are skipped, which is not an error but is never silent: the
	// backends count and log every skip (see SkipReporter), and
	// GroupSendAll fails instead. Sending to an empty or unknown group is
	// not an error.
	GroupSend(ctx context.Context, group string, msg event.Event) error

	// Flush drops every queued message and every group. Receivers that
	// are waiting keep waiting.
	Flush(ctx context.Context) error

	// Close releases the layer. Receivers blocked in Receive return
	// ErrClosed. Calling Close again does nothing and returns nil.
	Close() error
}

// Middleware wraps a Layer to add behaviour such as metrics or tracing
// without the backend knowing about it.
type Middleware func(Layer) Layer
