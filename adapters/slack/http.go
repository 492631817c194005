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
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/switchboard-bots/switchboard/scope"
)

// Handler returns the HTTP endpoints of http mode: the Events API at
// EventsPath, slash commands at CommandsPath and interactivity at
// InteractivityPath. Every request must carry a valid v0 signature made
// with the signing secret and a timestamp at most five minutes old, or it
// is answered 401 and goes no further. Mount it on a server of your own,
// or set Listen and let Run serve it. Requests that arrive before Run has
// started or after Shutdown get 503, which Slack retries.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+a.cfg.EventsPath, a.serveEvents)
	mux.HandleFunc("POST "+a.cfg.CommandsPath, a.serveCommand)
	mux.HandleFunc("POST "+a.cfg.InteractivityPath, a.serveInteraction)
	return mux
}

// readSigned reads and verifies a request body. It answers the request
// itself and returns nil when the body is too large or the signature does
// not verify. Nothing of an unverified request is logged but the reason.
func (a *Adapter) readSigned(w http.ResponseWriter, r *http.Request) []byte {
	body, err := io.ReadAll(io.LimitReader(r.Body, a.cfg.MaxBody+1))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return nil
	}
	if int64(len(body)) > a.cfg.MaxBody {
		a.log.Warn("slack: request body too large", "adapter", a.cfg.Name, "path", r.URL.Path, "max_body", a.cfg.MaxBody)
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return nil
	}
	if err := a.verify(r.Header, body); err != nil {
		a.log.Warn("slack: request rejected", "adapter", a.cfg.Name, "path", r.URL.Path, "err", err, "remote", r.RemoteAddr)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return nil
	}
	// Decoding needs the bot's identity (to drop its own messages), which
	// Run learns from auth.test: a request that comes in earlier waits.
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.AckTimeout)
	defer cancel()
	select {
	case <-a.managed:
	case <-a.stopping:
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return nil
	case <-ctx.Done():
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return nil
	}
	return body
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
	body := a.readSigned(w, r)
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
	a.answer(w, r.Context(), &in)
}

func (a *Adapter) serveCommand(w http.ResponseWriter, r *http.Request) {
	body := a.readSigned(w, r)
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
			a.answer(w, r.Context(), &in)
			return
		}
	}
	a.log.Warn("slack: bad slash command request", "adapter", a.cfg.Name, "err", err)
	http.Error(w, "bad request", http.StatusBadRequest)
}

func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request) {
	body := a.readSigned(w, r)
	if body == nil {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err == nil {
		var in inbound
		if in, err = decodeInteraction([]byte(form.Get("payload"))); err == nil {
			a.answer(w, r.Context(), &in)
			return
		}
	}
	a.log.Warn("slack: bad interactivity request", "adapter", a.cfg.Name, "err", err)
	http.Error(w, "bad request", http.StatusBadRequest)
}

// answer delivers an update and acknowledges it with 200 once its scope
// took it; otherwise it answers 503 so that Slack retries later.
func (a *Adapter) answer(w http.ResponseWriter, ctx context.Context, in *inbound) {
	if err := a.accept(ctx, in); err != nil {
		a.log.Warn("slack: update not accepted; Slack will retry", "adapter", a.cfg.Name,
			"event_id", in.id, "team", in.team, "channel", in.channel, "err", err)
		if errors.Is(err, scope.ErrTooManyScopes) || errors.Is(err, context.DeadlineExceeded) {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// serveHTTP serves Handler on Listen until ctx ends; without Listen it
// only waits, the handler being mounted elsewhere.
func (a *Adapter) serveHTTP(ctx context.Context) error {
	if a.cfg.Listen == "" {
		a.markReady()
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("slack: listen: %w", err)
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// The socket listens already: connections made from now on queue
	// until Serve accepts them.
	a.markReady()
	select {
	case err := <-errc:
		return fmt.Errorf("slack: serve: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-errc
		return nil
	}
}
