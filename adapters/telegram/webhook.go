package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/switchboard-bots/switchboard/adapters"
)

// SecretHeader is the header in which Telegram sends the webhook's secret
// token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookHandler returns the handler Telegram posts updates to, for
// mounting on a server of your own (or set webhook.listen and let Serve
// serve it). It answers:
//
//   - 401 when the secret token header is wrong, before reading the body,
//     and the connection is closed;
//   - 200 once the update was handled (its handler returned), or was
//     handled before (a retry); a retry that comes while its update is
//     still being handled waits for that handling and answers as it ends;
//   - 400 for a body that is not an update (Telegram would retry it in
//     vain) or that is not sent within webhook.listener.read_body_timeout,
//     413 for one over webhook.max_body;
//   - 503 at once when the process holds as many request bodies as its
//     budget allows (adapters.BodyBudget);
//   - 503 while the adapter is not serving, when the update will not be
//     handled in this process, or when it is not handled within
//     webhook.handler_wait: Telegram then sends it again, and a retry of
//     an update still being handled waits for that same handling.
//
// Nothing is acknowledged that was not handled, so a process killed at any
// moment loses no update; the updates whose requests were open at the
// kill may be handled twice.
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
		// A stranger keeps no connection open.
		w.Header().Set("Connection", "close")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	in := a.in.Load()
	if in == nil || !a.flights.open() {
		http.Error(w, "not accepting updates", http.StatusServiceUnavailable)
		return
	}
	body, release, err := adapters.ReadBody(w, r, a.cfg.Webhook.MaxBody, in.Bodies())
	if err != nil {
		if errors.Is(err, adapters.ErrBodyBudget) {
			in.Report().Refused(adapters.ReasonBodyBudget)
		}
		w.Header().Set("Connection", "close")
		status := adapters.BodyStatus(w, err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	u, err := decodeUpdate(body, a.cfg.KeyBy)
	release() // the update holds what it needs of the body
	if err != nil {
		a.log.Error("telegram: bad webhook update", "adapter", a.cfg.Name, "err", err)
		http.Error(w, "not an update", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Webhook.HandlerWait)
	defer cancel()
	f, first := a.flights.start(u.id, a.handled)
	if f == nil {
		w.WriteHeader(http.StatusOK) // a retry of an update handled before
		return
	}
	if first {
		if err := in.Deliver(ctx, u.key, u.ev, a.newScope(u), f.ack); err != nil {
			f.ack(err)
		}
	}
	select {
	case <-f.done:
		if f.err == nil {
			a.log.Debug("telegram: webhook update handled", "adapter", a.cfg.Name, "update_id", u.id)
			w.WriteHeader(http.StatusOK)
			return
		}
		err = f.err
	case <-ctx.Done():
		err = ctx.Err()
	}
	a.log.Warn("telegram: webhook update not handled; Telegram will send it again", "adapter", a.cfg.Name,
		"update_id", u.id, "err", err)
	http.Error(w, "try again later", http.StatusServiceUnavailable)
}

// flights are the webhook updates being handled, so that a retry of one
// waits for the same handling instead of starting another.
type flights struct {
	mu     sync.Mutex
	m      map[int64]*flight
	closed bool // Serve stopped taking updates
}

// flight is one update being handled: done is closed once err says how.
type flight struct {
	done chan struct{}
	err  error
	end  func(error)
}

func (f *flight) ack(err error) { f.end(err) }

func (fs *flights) open() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return !fs.closed
}

func (fs *flights) setClosed(c bool) {
	fs.mu.Lock()
	fs.closed = c
	fs.mu.Unlock()
}

// start returns the flight of update id, and whether the caller starts it
// (and must deliver it); nil when the update was handled before.
func (fs *flights) start(id int64, handled *dedupe) (*flight, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f := fs.m[id]; f != nil {
		return f, false
	}
	if handled.has(id) {
		return nil, false
	}
	f := &flight{done: make(chan struct{})}
	var once sync.Once
	f.end = func(err error) {
		once.Do(func() {
			fs.mu.Lock()
			if err == nil {
				handled.add(id) // before the flight goes: a retry finds one or the other
			}
			delete(fs.m, id)
			fs.mu.Unlock()
			f.err = err
			close(f.done)
		})
	}
	fs.m[id] = f
	return f, true
}

// serveWebhook accepts webhook updates until ctx ends: it sets the webhook
// if webhook.url is configured, serves webhook.listen if set, and on the
// way out stops taking updates (503, so Telegram keeps them), lets the
// requests open answer once their updates are handled (until the Intake's
// grace ends), and deletes the webhook if asked to.
func (a *Adapter) serveWebhook(ctx context.Context, in *adapters.Intake) error {
	h := a.cfg.Webhook
	// Accept, and listen, before asking Telegram to push: the first
	// pushes would fail otherwise.
	a.flights.setClosed(false)
	defer a.flights.setClosed(true)
	var srv *adapters.HTTPServer
	served := make(chan error, 1)
	if h.Listen != "" {
		ln, err := net.Listen("tcp", h.Listen)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("POST "+h.Path, a.WebhookHandler())
		srv = adapters.NewHTTPServer(ln, mux, h.Listener, adapters.ListenFrom(in), adapters.ListenName(a.cfg.Name+" webhook"))
		a.log.Info("telegram: serving the webhook", "adapter", a.cfg.Name, "addr", ln.Addr().String(), "path", h.Path)
		go func() { served <- srv.Serve() }()
		defer func() {
			srv.Shutdown(in.Grace()) // waits for the open requests' updates to be handled
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
		if err := a.refused(outCall{method: "setWebhook"}, a.do(ctx, outCall{method: "setWebhook", params: p})); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	in.Ready()
	select {
	case <-ctx.Done():
	case err := <-served:
		served <- err // for the deferred shutdown
		return err
	}
	// From here on new updates get 503, and Telegram keeps them.
	a.flights.setClosed(true)
	if h.DeleteOnStop {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.RequestTimeout)
		defer cancel()
		if err := a.do(dctx, outCall{method: "deleteWebhook", params: tgbotapi.Params{}}); err != nil {
			a.log.Warn("telegram: deleteWebhook failed", "adapter", a.cfg.Name, "err", err)
		}
	}
	return nil
}
