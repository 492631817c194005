package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// Handler returns the HTTP endpoints of http mode: the Events API at
// EventsPath, slash commands at CommandsPath and interactivity at
// InteractivityPath. Every request must carry a valid v0 signature made
// with the signing secret and a timestamp at most five minutes old, or it
// is answered 401 and goes no further. Mount it on a server of your own,
// or set Listen and let the adapter serve it. Requests that arrive while
// the adapter is not serving (before auth.test succeeded, after Shutdown
// began) get 503, which Slack retries.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+a.cfg.EventsPath, a.serveEvents)
	mux.HandleFunc("POST "+a.cfg.CommandsPath, a.serveCommand)
	mux.HandleFunc("POST "+a.cfg.InteractivityPath, a.serveInteraction)
	return mux
}

// readSigned reads and verifies a request body, and returns it with the
// intake to deliver it to. It answers the request itself and returns nil
// when the body is too large, the signature does not verify, or the
// adapter is not serving. Nothing of an unverified request is logged but
// the reason.
func (a *Adapter) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, *adapters.Intake) {
	body, err := io.ReadAll(io.LimitReader(r.Body, a.cfg.MaxBody+1))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return nil, nil
	}
	if int64(len(body)) > a.cfg.MaxBody {
		a.log.Warn("slack: request body too large", "adapter", a.cfg.Name, "path", r.URL.Path, "max_body", a.cfg.MaxBody)
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return nil, nil
	}
	if err := a.verify(r.Header, body); err != nil {
		a.log.Warn("slack: request rejected", "adapter", a.cfg.Name, "path", r.URL.Path, "err", err, "remote", r.RemoteAddr)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return nil, nil
	}
	// Decoding needs the bot's identity (to drop its own messages), which
	// the intake comes with. A request that comes in while Serve is still
	// calling auth.test waits for it, within the deadline.
	in := a.intake()
	if in == nil {
		ctx, cancel := context.WithTimeout(r.Context(), a.cfg.AckDeadline)
		select {
		case <-a.serving:
			in = a.intake()
		case <-ctx.Done():
		}
		cancel()
	}
	if in == nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, ErrNotServing.Error(), http.StatusServiceUnavailable)
		return nil, nil
	}
	return body, in
}

// verify checks the v0 HMAC-SHA256 signature and the timestamp's age with
// slack-go's verifier.
func (a *Adapter) verify(h http.Header, body []byte) error {
	sv, err := slackapi.NewSecretsVerifier(h, a.cfg.SigningSecret)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if _, err := sv.Write(body); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if err := sv.Ensure(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, intake := a.readSigned(w, r)
	if body == nil {
		return
	}
	in, err := a.decodeEventsAPI(body)
	if err != nil {
		a.log.Warn("slack: bad Events API request", "adapter", a.cfg.Name, "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if in.challenge != "" {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, in.challenge)
		return
	}
	if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
		a.log.Debug("slack: Events API retry", "adapter", a.cfg.Name, "event_id", in.id,
			"retry", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	a.answer(w, r, intake, &in)
}

func (a *Adapter) serveCommand(w http.ResponseWriter, r *http.Request) {
	body, intake := a.readSigned(w, r)
	if body == nil {
		return
	}
	// SlashCommandParse reads the form from the request, so give it the
	// body that was already read and verified.
	r.Body = io.NopCloser(bytes.NewReader(body))
	cmd, err := slackapi.SlashCommandParse(r)
	if err == nil {
		var in inbound
		if in, err = decodeCommand(cmd); err == nil {
			a.answer(w, r, intake, &in)
			return
		}
	}
	a.log.Warn("slack: bad slash command request", "adapter", a.cfg.Name, "err", err)
	http.Error(w, "bad request", http.StatusBadRequest)
}

func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request) {
	body, intake := a.readSigned(w, r)
	if body == nil {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err == nil {
		var in inbound
		if in, err = decodeInteraction([]byte(form.Get("payload"))); err == nil {
			a.answer(w, r, intake, &in)
			return
		}
	}
	a.log.Warn("slack: bad interactivity request", "adapter", a.cfg.Name, "err", err)
	http.Error(w, "bad request", http.StatusBadRequest)
}

// answer delivers an update and answers 200 once it is safe: when its
// handler returned, or, if it is still running, at the deadline
// (AckDeadline after the request was read). It answers 503, so that Slack
// retries, when the update got no room in its scope's inbox by the
// deadline or will not be handled in this process. Slack's retries of an
// update answered 200 are answered 200 again without a delivery.
func (a *Adapter) answer(w http.ResponseWriter, r *http.Request, intake *adapters.Intake, in *inbound) {
	fired := make(chan struct{})
	dctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// The deadline runs from here: reading and verifying the body is
	// bounded by MaxBody and takes no time worth counting.
	stop := a.clock.AfterFunc(a.cfg.AckDeadline, func() { close(fired); cancel() })
	defer stop()
	ok, err := a.deliver(dctx, intake, in, fired)
	switch {
	case ok:
		w.WriteHeader(http.StatusOK)
	case r.Context().Err() != nil:
		// Slack hung up: nobody to answer.
	default:
		a.log.Warn("slack: update not taken; Slack will send it again", "adapter", a.cfg.Name,
			"event_id", in.id, "team", in.team, "channel", in.channel, "err", err)
		if errors.Is(err, scope.ErrTooManyScopes) || errors.Is(err, context.Canceled) || errors.Is(err, errBusy) {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, "try again", http.StatusServiceUnavailable)
	}
}

// errBusy: the same event is being delivered by another request.
var errBusy = errors.New("slack: event already in delivery")

// deliver hands in to its scope and reports whether it may be
// acknowledged: once handled, or once fired closes (the deadline) after it
// was delivered.
func (a *Adapter) deliver(ctx context.Context, intake *adapters.Intake, in *inbound, fired <-chan struct{}) (bool, error) {
	if in.ev == nil {
		return true, nil
	}
	if in.id != "" {
		switch a.seen.claim(in.id) {
		case claimAccepted:
			return true, nil
		case claimBusy:
			return false, errBusy
		}
	}
	ok, err := a.deliverClaimed(ctx, intake, in, fired)
	if in.id != "" {
		a.seen.done(in.id, ok)
	}
	return ok, err
}

func (a *Adapter) deliverClaimed(ctx context.Context, intake *adapters.Intake, in *inbound, fired <-chan struct{}) (bool, error) {
	handled := make(chan error, 1)
	err := intake.Deliver(ctx, a.key(in), in.ev, a.newScope(in), func(err error) { handled <- err })
	if err != nil {
		select {
		case <-fired:
			return false, fmt.Errorf("no room by the deadline: %w", err)
		default:
			return false, err
		}
	}
	select {
	case err := <-handled:
		return err == nil, err
	case <-fired:
		a.log.Debug("slack: update acknowledged at its deadline while being handled", "adapter", a.cfg.Name,
			"event_id", in.id, "channel", in.channel)
		return true, nil
	case <-ctx.Done():
		// Slack hung up; the update is in this process's hands and
		// will be handled: a retry is acknowledged without delivery.
		return true, ctx.Err()
	}
}

// serveHTTP serves Handler on Listen until ctx ends; without Listen it
// only waits, the handler being mounted elsewhere. At the end, requests
// under way get their answers, until in.Grace ends at most.
func (a *Adapter) serveHTTP(ctx context.Context, in *adapters.Intake) error {
	if a.cfg.Listen == "" {
		in.Ready()
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("slack: listen: %w", err)
	}
	srv := &http.Server{
		Handler: a.Handler(),
		// Slack sends small requests and waits 3 seconds for an answer:
		// nothing legitimate needs more than these.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// The socket listens already: connections made from now on queue
	// until Serve accepts them.
	in.Ready()
	select {
	case err := <-errc:
		return fmt.Errorf("slack: serve: %w", err)
	case <-ctx.Done():
		if srv.Shutdown(in.Grace()) != nil {
			_ = srv.Close()
		}
		<-errc
		return nil
	}
}
