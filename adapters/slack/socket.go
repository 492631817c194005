package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/switchboard-bots/switchboard/adapters"
)

// serveSocket keeps a Socket Mode connection until ctx ends. The library
// reconnects by itself when Slack asks (a disconnect envelope, a refresh)
// or pings stop; an envelope not acknowledged on the old connection is
// sent again by Slack and joins the delivery of the first, if it is still
// under way, or is acknowledged at once if that was.
func (a *Adapter) serveSocket(ctx context.Context, in *adapters.Intake) error {
	var opts []socketmode.Option
	if a.ping > 0 {
		opts = append(opts, socketmode.OptionPingInterval(a.ping))
	}
	// The connection outlives ctx: the acknowledgements of the events
	// taken before Shutdown still go out on it.
	connCtx, closeConn := context.WithCancel(context.WithoutCancel(ctx))
	defer closeConn()
	s := newSocketRun(a, in, socketmode.New(a.api, opts...))
	runErr := make(chan error, 1)
	go func() { runErr <- s.smc.RunContext(connCtx) }()
	acked := make(chan struct{})
	go func() { defer close(acked); s.acker(connCtx) }()
	// take ends when the adapter takes no more envelopes: at Shutdown, or
	// when the connection fails for good.
	take, stopTaking := context.WithCancel(ctx)
	defer stopTaking()

	var failed error
	ran := false // RunContext returned
serving:
	for {
		select {
		case evt := <-s.smc.Events:
			s.handle(take, evt)
		case failed = <-runErr:
			ran = true
			break serving
		case <-ctx.Done():
			break serving
		}
	}
	stopTaking()
	if ctx.Err() == nil {
		if failed == nil {
			failed = errors.New("connection ended")
		}
		// invalid_auth and the like: reconnecting would not help. What
		// was taken is not acknowledged, and Slack sends it again to the
		// next process.
		closeConn()
		s.stopAcks()
		<-acked
		s.lanes.Wait()
		return fmt.Errorf("slack: socket mode: %w", failed)
	}
	// Shutdown: take nothing new, let what was taken settle, send its
	// acknowledgements, then close the connection.
	grace := in.Grace()
	drained := s.drained()
	for drained != nil {
		select {
		case <-s.smc.Events: // an envelope now is left for Slack to send again
		case <-drained:
			drained = nil
		case <-grace.Done():
			drained = nil
		}
	}
	s.stopAcks()
	select {
	case <-acked:
	case <-grace.Done():
	}
	closeConn()
	<-acked
	if !ran {
		<-runErr
	}
	s.lanes.Wait()
	return nil
}

// handle routes one event of the library.
func (s *socketRun) handle(ctx context.Context, evt socketmode.Event) {
	a := s.a
	switch evt.Type {
	case socketmode.EventTypeConnecting:
	case socketmode.EventTypeHello:
		// Slack's hello, rather than the dial, says the connection is
		// accepted and envelopes will come.
		s.in.Ready()
	case socketmode.EventTypeConnected:
		a.log.Info("slack: socket mode connected", "adapter", a.cfg.Name)
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		a.log.Warn("slack: socket mode trouble; the client reconnects", "adapter", a.cfg.Name, "event", evt.Type, "detail", errorOf(evt.Data))
	case socketmode.EventTypeInvalidAuth:
		a.log.Error("slack: socket mode: invalid app token", "adapter", a.cfg.Name)
	case socketmode.EventTypeErrorBadMessage:
		// An inner event type slackevents does not know, or a payload it
		// cannot parse: decode the envelope ourselves, and acknowledge it
		// whatever it holds, or Slack sends it again and again.
		bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
		var req socketmode.Request
		if bad == nil || json.Unmarshal(bad.Message, &req) != nil || req.EnvelopeID == "" {
			a.log.Warn("slack: unreadable socket mode message dropped", "adapter", a.cfg.Name)
			return
		}
		s.envelope(ctx, &req)
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		if evt.Request != nil {
			s.envelope(ctx, evt.Request)
		}
	default:
		a.log.Debug("slack: socket mode event ignored", "adapter", a.cfg.Name, "event", evt.Type)
	}
}

// decodeEnvelope decodes the payload of a Socket Mode envelope. Slash
// commands and interactions carry no id of their own, so the envelope id
// stands in for dropping redeliveries.
func (a *Adapter) decodeEnvelope(req *socketmode.Request) (in inbound, err error) {
	switch req.Type {
	case socketmode.RequestTypeEventsAPI:
		return a.decodeEventsAPI(req.Payload)
	case socketmode.RequestTypeSlashCommands:
		var cmd slackapi.SlashCommand
		if err = json.Unmarshal(req.Payload, &cmd); err != nil {
			return inbound{}, fmt.Errorf("%w: %v", errMalformed, err)
		}
		in, err = decodeCommand(cmd)
	case socketmode.RequestTypeInteractive:
		in, err = decodeInteraction(req.Payload)
	default:
		return inbound{}, fmt.Errorf("%w: unknown envelope type %q", errMalformed, req.Type)
	}
	in.id = "envelope:" + req.EnvelopeID
	return in, err
}

// errorOf extracts the error the library put in an event's data.
func errorOf(data any) string {
	switch d := data.(type) {
	case *slackapi.ConnectionErrorEvent:
		return d.Error()
	case *slackapi.IncomingEventError:
		return d.Error()
	case *socketmode.ErrorWriteFailed:
		return d.Cause.Error()
	case error:
		return d.Error()
	}
	return ""
}
