package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboard-bots/switchboard/scope"
)

// SecretHeader is the header in which Telegram sends the webhook's secret
// token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookHandler returns the handler Telegram posts updates to, for
// mounting on a server of your own (or set webhook.listen and let Run
// serve it). It answers:
//
//   - 401 when the secret token header is wrong, before reading the body;
//   - 200 once the update is in its scope's inbox, or was seen before;
//   - 400 for a body that is not an update (Telegram would retry it in
//     vain), 413 for one over webhook.max_body;
//   - 503 while the adapter is not running or its scopes are full, so
//     that Telegram retries later: nothing is accepted that is not queued.
//
// The answer waits while the scope's inbox is full: that is the
// backpressure Telegram feels, with at most max_connections requests in
// flight.
func (a *Adapter) WebhookHandler() http.Handler { return http.HandlerFunc(a.serveUpdate) }

func (a *Adapter) serveUpdate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Hashing both sides first makes the comparison constant-time in the
	// secret's length too.
	got := sha256.Sum256([]byte(r.Header.Get(SecretHeader)))
	want := sha256.Sum256([]byte(a.cfg.Webhook.SecretToken))
	if a.cfg.Webhook.SecretToken == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		a.log.Warn("telegram: webhook request with a wrong secret token", "adapter", a.cfg.Name, "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	m := a.hookM.Load()
	if m == nil {
		http.Error(w, "not accepting updates", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.Webhook.MaxBody))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read update", http.StatusBadRequest)
		return
	}
	in, err := decodeUpdate(body, a.cfg.KeyBy)
	if err != nil {
		a.log.Error("telegram: bad webhook update", "adapter", a.cfg.Name, "err", err)
		http.Error(w, "not an update", http.StatusBadRequest)
		return
	}
	if !a.dedupe.add(in.id) {
		w.WriteHeader(http.StatusOK) // a retry of an update already accepted
		return
	}
	if err := m.Deliver(r.Context(), in.key, in.ev, a.newScope(in)); err != nil {
		a.dedupe.remove(in.id)
		a.log.Warn("telegram: webhook update not accepted; Telegram will retry", "adapter", a.cfg.Name,
			"update_id", in.id, "err", err)
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// serveWebhook accepts webhook updates until fetch ends: it sets the
// webhook if webhook.url is configured, serves webhook.listen if set, and
// on the way out stops taking updates (503, so Telegram keeps them) and
// deletes the webhook if asked to.
func (a *Adapter) serveWebhook(fetch, ctx context.Context, m *scope.Manager) error {
	h := a.cfg.Webhook
	// Accept, and listen, before asking Telegram to push: the first
	// pushes would fail otherwise.
	a.hookM.Store(m)
	defer a.hookM.Store(nil)
	var srv *http.Server
	served := make(chan error, 1)
	if h.Listen != "" {
		ln, err := net.Listen("tcp", h.Listen)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("POST "+h.Path, a.WebhookHandler())
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: a.cfg.RequestTimeout}
		a.log.Info("telegram: serving the webhook", "adapter", a.cfg.Name, "addr", ln.Addr().String(), "path", h.Path)
		go func() { served <- srv.Serve(ln) }()
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.RequestTimeout)
			_ = srv.Shutdown(sctx)
			cancel()
			<-served
		}()
	}
	if h.URL != "" {
		p := tgbotapi.Params{"url": h.URL, "secret_token": string(h.SecretToken),
			"max_connections": strconv.Itoa(h.MaxConnections)}
		p.AddBool("drop_pending_updates", h.DropPendingUpdates)
		if len(a.cfg.AllowedUpdates) > 0 {
			if err := p.AddInterface("allowed_updates", a.cfg.AllowedUpdates); err != nil {
				return err
			}
		}
		if err := a.do(fetch, outCall{method: "setWebhook", params: p}); err != nil {
			if fetch.Err() != nil {
				return nil
			}
			return err
		}
	}
	a.markReady()
	select {
	case <-fetch.Done():
	case err := <-served:
		served <- err // for the deferred shutdown
		return err
	}
	// From here on updates get 503, and Telegram keeps them.
	a.hookM.Store(nil)
	if h.DeleteOnStop {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.RequestTimeout)
		defer cancel()
		if err := a.do(dctx, outCall{method: "deleteWebhook", params: tgbotapi.Params{}}); err != nil {
			a.log.Warn("telegram: deleteWebhook failed", "adapter", a.cfg.Name, "err", err)
		}
	}
	return nil
}
