package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
// intake to deliver it to and a release of the body's share of the
// process's body budget. It answers the request itself and returns a nil
// body when the signature headers are missing or stale (checked before a
// byte of the body is read), the body budget is spent (503 at once), the
// body is too large or too slow, the signature does not verify, or the
// adapter is not serving. Nothing of an unverified request is logged but
// the reason.
func (a *Adapter) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, *adapters.Intake, func()) {
	if err := a.preverify(r.Header); err != nil {
		a.log.Warn("slack: request rejected", "adapter", a.cfg.Name, "path", r.URL.Path, "err", err, "remote", r.RemoteAddr)
		// A stranger keeps no connection open.
		w.Header().Set("Connection", "close")
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return nil, nil, nil
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
		return nil, nil, nil
	}
	body, release, err := adapters.ReadBody(w, r, a.cfg.MaxBody, in.Bodies())
	if err != nil {
		a.log.Warn("slack: request body not read", "adapter", a.cfg.Name, "path", r.URL.Path, "err", err,
			"max_body", a.cfg.MaxBody, "remote", r.RemoteAddr)
		if errors.Is(err, adapters.ErrBodyBudget) {
			in.Report().Refused(adapters.ReasonBodyBudget)
		}
		w.Header().Set("Connection", "close")
		status := adapters.BodyStatus(w, err)
		http.Error(w, http.StatusText(status), status)
		return nil, nil, nil
	}
	if err := a.verify(r.Header, body); err != nil {
		release()
		a.log.Warn("slack: request rejected", "adapter", a.cfg.Name, "path", r.URL.Path, "err", err, "remote", r.RemoteAddr)
		w.Header().Set("Connection", "close")
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return nil, nil, nil
	}
	return body, in, release
}

// preverify checks what can be checked of a signature before the body is
// read: both headers are there, the signature is a v0 one, and the
// timestamp is within five minutes of now, as Slack asks. An unsigned
// request is then refused without costing the memory of its body.
func (a *Adapter) preverify(h http.Header) error {
	sig, ts := h.Get("X-Slack-Signature"), h.Get("X-Slack-Request-Timestamp")
	if !strings.HasPrefix(sig, "v0=") || len(sig) != len("v0=")+64 {
		return fmt.Errorf("%w: missing or malformed X-Slack-Signature", ErrBadSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: missing or malformed X-Slack-Request-Timestamp", ErrBadSignature)
	}
	// Wall time, as verify's check of the same timestamp uses.
	if age := time.Since(time.Unix(sec, 0)); age > signatureWindow || age < -signatureWindow {
		return fmt.Errorf("%w: timestamp %v away from now", ErrBadSignature, age.Round(time.Second))
	}
	return nil
}

// signatureWindow is how far a request's timestamp may be from now.
const signatureWindow = 5 * time.Minute

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
	body, intake, release := a.readSigned(w, r)
	if body == nil {
		return
	}
	defer release()
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
	body, intake, release := a.readSigned(w, r)
	if body == nil {
		return
	}
	defer release()
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
	body, intake, release := a.readSigned(w, r)
	if body == nil {
		return
	}
	defer release()
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

// errBusy: the same event was being delivered by another request, which
// did not get it taken.
var errBusy = errors.New("slack: event already in delivery")

// deliver hands in to its scope and reports whether it may be
// acknowledged: once handled, or once fired closes (the deadline) after it
// was delivered.
func (a *Adapter) deliver(ctx context.Context, intake *adapters.Intake, in *inbound, fired <-chan struct{}) (bool, error) {
	if in.ev == nil {
		return true, nil
	}
	if in.id != "" {
		switch c, settled := a.seen.claimWait(in.id); c {
		case claimAccepted:
			return true, nil
		case claimBusy:
			// A retry of an event still being delivered is
			// acknowledged only once its original was: the
			// original's fate is its answer.
			select {
			case <-settled:
				if a.seen.accepted(in.id) {
					return true, nil
				}
				return false, errBusy
			case <-fired:
				return false, errBusy
			case <-ctx.Done():
				return false, errBusy
			}
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

// serveHTTP serves Handler on Listen, bounded by the listener settings,
// until ctx ends; without Listen it only waits, the handler being mounted
// elsewhere. At the end, requests under way get their answers, until
// in.Grace ends at most.
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
	// The socket listens already: connections made before Serve accepts
	// them queue, so Ready may be told at once.
	if err := adapters.Serve(ctx, in, ln, a.Handler(), a.cfg.Listener, adapters.ListenName(a.cfg.Name+" http")); err != nil {
		return fmt.Errorf("slack: serve: %w", err)
	}
	return nil
}
