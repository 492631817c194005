package ops

import (
	"context"
	"errors"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
)

// The op label values of switchboard_layer_errors_total, one per Layer
// method that can fail in service.
const (
	opSend         = "send"
	opReceive      = "receive"
	opGroupSend    = "group_send"
	opGroupAdd     = "group_add"
	opGroupDiscard = "group_discard"
	opNewChannel   = "new_channel"
	opFlush        = "flush"
)

// The kind label values of switchboard_layer_errors_total.
const (
	// kindError: the backend failed (Redis unreachable, an invalid name).
	// Alert on this one.
	kindError = "error"
	// kindFull: layer.ErrChannelFull, backpressure from a consumer that
	// does not keep up. Worth a dashboard, not a page.
	kindFull = "channel_full"
	// kindClosed: layer.ErrClosed, which every worker sees while the
	// server shuts down.
	kindClosed = "closed"
	// kindCanceled: the caller's context ended. A Receive that stops
	// waiting because its scope ended or the server stops ends this way
	// in normal service, so it must not count as a failure.
	kindCanceled = "canceled"
)

// layerKind classifies err. Context errors come first: a backend that
// wraps the caller's cancellation with its own error still reports the
// caller's decision, not a failure.
func layerKind(err error) string {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return kindCanceled
	case errors.Is(err, layer.ErrChannelFull):
		return kindFull
	case errors.Is(err, layer.ErrClosed):
		return kindClosed
	default:
		return kindError
	}
}

// Layer wraps a channel layer to count its failures in
// switchboard_layer_errors_total{op,kind}. Rather than leave cancellation
// and a full channel out, or lump them in with backend failures, each gets
// its own kind — error, channel_full, closed or canceled — so that an
// alert on kind="error" fires only for real failures while the others
// stay visible. Close is passed through uncounted: it happens once, at
// shutdown.
//
// The error series of every op start at zero as soon as a layer is
// wrapped, so that rate() over them is defined before the first failure.
func (m *Metrics) Layer() layer.Middleware {
	return func(next layer.Layer) layer.Layer {
		for _, op := range [...]string{opSend, opReceive, opGroupSend, opGroupAdd, opGroupDiscard, opNewChannel, opFlush} {
			m.layerErrs.WithLabelValues(op, kindError)
		}
		return &countingLayer{next: next, m: m}
	}
}

type countingLayer struct {
	next layer.Layer
	m    *Metrics
}

// count records err, if any, against op and returns it unchanged. Errors
// are rare, so resolving the label child per error costs nothing that
// matters and keeps the success path free of work.
func (l *countingLayer) count(op string, err error) error {
	if err != nil {
		l.m.layerErrs.WithLabelValues(op, layerKind(err)).Inc()
	}
	return err
}

func (l *countingLayer) Send(ctx context.Context, channel string, msg event.Event) error {
	return l.count(opSend, l.next.Send(ctx, channel, msg))
}

func (l *countingLayer) Receive(ctx context.Context, channel string) (event.Event, error) {
	ev, err := l.next.Receive(ctx, channel)
	return ev, l.count(opReceive, err)
}

func (l *countingLayer) NewChannel(ctx context.Context, prefix string) (string, error) {
	name, err := l.next.NewChannel(ctx, prefix)
	return name, l.count(opNewChannel, err)
}

func (l *countingLayer) GroupAdd(ctx context.Context, group, channel string) error {
	return l.count(opGroupAdd, l.next.GroupAdd(ctx, group, channel))
}

func (l *countingLayer) GroupDiscard(ctx context.Context, group, channel string) error {
	return l.count(opGroupDiscard, l.next.GroupDiscard(ctx, group, channel))
}

func (l *countingLayer) GroupSend(ctx context.Context, group string, msg event.Event) error {
	return l.count(opGroupSend, l.next.GroupSend(ctx, group, msg))
}

func (l *countingLayer) Flush(ctx context.Context) error {
	return l.count(opFlush, l.next.Flush(ctx))
}

func (l *countingLayer) Close() error { return l.next.Close() }

// Unwrap gives the layer below, whose optional capabilities
// (layer.Subscriber, layer.AllSender) callers find through it.
func (l *countingLayer) Unwrap() layer.Layer { return l.next }
