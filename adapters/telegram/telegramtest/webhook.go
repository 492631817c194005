package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// webhook is a set webhook and the goroutines pushing updates to it.
type webhook struct {
	url, secret string
	allowed     []string
	maxConn     int
	cancel      context.CancelFunc
	busy        map[int64]bool // chats with an update being posted
}

// Attempt is one push of an update to the webhook.
type Attempt struct {
	UpdateID int
	Status   int // 0 when the request failed
}

// defaultMaxConnections is setWebhook's documented default.
const defaultMaxConnections = 40

func (s *Server) setWebhookLocked(c *Call) reply {
	u := c.Params.Get("url")
	s.stopHookLocked()
	if c.Params.Get("drop_pending_updates") == "true" {
		s.q.ups = nil
	}
	if u == "" {
		return ok(true) // an empty URL removes the webhook
	}
	maxConn := defaultMaxConnections
	if m := c.Params.Get("max_connections"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > 100 {
			return bad("bad webhook: max_connections must be between 1 and 100")
		}
		maxConn = n
	}
	var allowed []string
	if a := c.Params.Get("allowed_updates"); a != "" {
		_ = json.Unmarshal([]byte(a), &allowed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &webhook{url: u, secret: c.Params.Get("secret_token"), allowed: allowed, maxConn: maxConn,
		cancel: cancel, busy: map[int64]bool{}}
	s.hook = h
	s.hookDone.Add(1)
	go s.push(ctx, h)
	return ok(true)
}

func (s *Server) stopHookLocked() {
	if s.hook != nil {
		s.hook.cancel()
		s.hook = nil
	}
}

// WebhookAttempts returns every push to a webhook so far.
func (s *Server) WebhookAttempts() []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attempts)
}

// push delivers the pending updates to the webhook until it is removed, as
// Telegram does: up to max_connections requests at once, one chat's
// updates in order (the next only once the previous got a 2xx), and an
// update that did not get a 2xx posted again after a pause.
func (s *Server) push(ctx context.Context, h *webhook) {
	defer s.hookDone.Done()
	client := &http.Client{Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()
	var posting sync.WaitGroup
	defer posting.Wait()
	slots := make(chan struct{}, h.maxConn)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		next, ok := s.nextForHook(ctx, h)
		if !ok {
			return
		}
		posting.Go(func() {
			defer func() { <-slots }()
			s.deliverToHook(ctx, h, client, next)
		})
	}
}

// nextForHook waits for the first pending update whose chat has none being
// posted, and marks its chat busy.
func (s *Server) nextForHook(ctx context.Context, h *webhook) (stored, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if ctx.Err() != nil {
			return stored{}, false
		}
		for i := range s.q.ups {
			u := &s.q.ups[i]
			if len(h.allowed) > 0 && !slices.Contains(h.allowed, u.kind) {
				continue
			}
			if !h.busy[u.chat] {
				h.busy[u.chat] = true
				return *u, true
			}
		}
		ch := s.changedLocked()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		s.mu.Lock()
	}
}

// deliverToHook posts u until it gets a 2xx or the webhook is removed.
func (s *Server) deliverToHook(ctx context.Context, h *webhook, client *http.Client, u stored) {
	defer func() {
		s.mu.Lock()
		delete(h.busy, u.chat)
		s.notifyLocked()
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		for i := range s.q.ups {
			if s.q.ups[i].id == u.id {
				s.q.ups[i].handed = true
			}
		}
		s.mu.Unlock()
		status := 0
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(u.raw))
		req.Header.Set("Content-Type", "application/json")
		if h.secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", h.secret)
		}
		if resp, err := client.Do(req); err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		s.mu.Lock()
		s.attempts = append(s.attempts, Attempt{UpdateID: u.id, Status: status})
		done := status >= 200 && status < 300
		if done {
			s.q.ups = slices.DeleteFunc(s.q.ups, func(x stored) bool {
				if x.id == u.id {
					s.q.confirm(x)
					return true
				}
				return false
			})
		}
		s.notifyLocked()
		s.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.hookRetry):
		}
	}
}
