package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// maxInFlight bounds the Socket Mode envelopes read but not yet
// acknowledged. Past it the adapter stops reading, and the connection's
// backpressure reaches Slack.
const maxInFlight = 1024

// socketRun is one Socket Mode session: the library's client and the
// lanes that deliver its envelopes.
type socketRun struct {
	a     *Adapter
	smc   *socketmode.Client
	slots chan struct{} // in-flight envelopes

	mu    sync.Mutex
	lanes map[string][]pending // per conversation key, in arrival order
	wg    sync.WaitGroup
}

// pending is one envelope waiting for its conversation's lane.
type pending struct {
	envelope string
	in       inbound
}

// runSocket keeps a Socket Mode connection until ctx ends. The library
// reconnects by itself when Slack asks (a disconnect envelope, a refresh)
// or pings stop; an envelope not acknowledged on the old connection is
// sent again by Slack and dropped as a duplicate if it was delivered.
func (a *Adapter) runSocket(ctx context.Context) error {
	var opts []socketmode.Option
	if a.ping > 0 {
		opts = append(opts, socketmode.OptionPingInterval(a.ping))
	}
	s := &socketRun{a: a, smc: socketmode.New(a.api, opts...),
		slots: make(chan struct{}, maxInFlight), lanes: make(map[string][]pending)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.smc.RunContext(ctx) }()
	defer s.wg.Wait() // lanes see ctx cancelled and leave their envelopes unacknowledged
	for {
		select {
		case evt := <-s.smc.Events:
			s.handle(ctx, evt)
		case err := <-runErr:
			if ctx.Err() != nil {
				return nil
			}
			return err // invalid_auth and the like: reconnecting would not help
		}
	}
}

// handle routes one event of the library.
func (s *socketRun) handle(ctx context.Context, evt socketmode.Event) {
	a := s.a
	switch evt.Type {
	case socketmode.EventTypeConnecting:
	case socketmode.EventTypeHello:
		// Slack's hello, rather than the dial, says the connection is
		// accepted and envelopes will come.
		a.markReady()
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

// envelope decodes an envelope's payload and queues it on its lane.
func (s *socketRun) envelope(ctx context.Context, req *socketmode.Request) {
	in, err := s.a.decodeEnvelope(req)
	if err != nil || in.ev == nil {
		if err != nil {
			s.a.log.Warn("slack: bad socket mode envelope acknowledged and dropped", "adapter", s.a.cfg.Name,
				"envelope_type", req.Type, "err", err)
		}
		s.ack(ctx, req.EnvelopeID)
		return
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return
	}
	key := s.a.key(&in)
	s.mu.Lock()
	q, running := s.lanes[key]
	s.lanes[key] = append(q, pending{envelope: req.EnvelopeID, in: in})
	if !running {
		s.wg.Add(1)
		go s.lane(ctx, key)
	}
	s.mu.Unlock()
}

// lane delivers one conversation's envelopes in order, acknowledging each
// once its scope took it. A conversation whose inbox is full holds only its
// own lane: the others keep flowing.
func (s *socketRun) lane(ctx context.Context, key string) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		q := s.lanes[key]
		if len(q) == 0 {
			delete(s.lanes, key)
			s.mu.Unlock()
			return
		}
		p := q[0]
		q[0] = pending{}
		s.lanes[key] = q[1:]
		s.mu.Unlock()

		if err := s.a.accept(ctx, &p.in); err != nil {
			// Not acknowledged: Slack sends the envelope again.
			if ctx.Err() == nil {
				s.a.log.Warn("slack: envelope not accepted; Slack will retry", "adapter", s.a.cfg.Name,
					"event_id", p.in.id, "channel", p.in.channel, "err", err)
			}
		} else {
			s.ack(ctx, p.envelope)
		}
		<-s.slots
	}
}

func (s *socketRun) ack(ctx context.Context, envelope string) {
	if err := s.smc.AckCtx(ctx, envelope, nil); err != nil && ctx.Err() == nil {
		s.a.log.Warn("slack: ack failed", "adapter", s.a.cfg.Name, "envelope", envelope, "err", err)
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
