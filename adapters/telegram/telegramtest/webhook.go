package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// webhook is a set webhook and the goroutine pushing updates to it.
type webhook struct {
	url, secret string
	allowed     []string
	cancel      context.CancelFunc
}

// Attempt is one push of an update to the webhook.
type Attempt struct {
	UpdateID int
	Status   int // 0 when the request failed
}

func (s *Server) setWebhookLocked(c *Call) reply {
	u := c.Params.Get("url")
	s.stopHookLocked()
	if c.Params.Get("drop_pending_updates") == "true" {
		s.q.ups = nil
	}
	if u == "" {
		return ok(true) // an empty URL removes the webhook
	}
	var allowed []string
	if a := c.Params.Get("allowed_updates"); a != "" {
		_ = json.Unmarshal([]byte(a), &allowed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.hook = &webhook{url: u, secret: c.Params.Get("secret_token"), allowed: allowed, cancel: cancel}
	s.hookDone.Add(1)
	go s.push(ctx, s.hook)
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

// push delivers the pending updates to the webhook one at a time, in
// order, until the webhook is removed. An update is forgotten once the
// receiver answered 2xx; any other answer is retried, as Telegram does.
func (s *Server) push(ctx context.Context, h *webhook) {
	defer s.hookDone.Done()
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	for {
		s.mu.Lock()
		var next *stored
		for next == nil {
			if ctx.Err() != nil {
				s.mu.Unlock()
				return
			}
			for i := range s.q.ups {
				if len(h.allowed) == 0 || slices.Contains(h.allowed, s.q.ups[i].kind) {
					u := s.q.ups[i]
					next = &u
					break
				}
			}
			if next == nil {
				ch := s.changedLocked()
				s.mu.Unlock()
				select {
				case <-ch:
				case <-ctx.Done():
				}
				s.mu.Lock()
			}
		}
		s.mu.Unlock()
		status := 0
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(next.raw))
		req.Header.Set("Content-Type", "application/json")
		if h.secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", h.secret)
		}
		if resp, err := client.Do(req); err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		s.mu.Lock()
		s.attempts = append(s.attempts, Attempt{UpdateID: next.id, Status: status})
		if status >= 200 && status < 300 {
			s.q.ups = slices.DeleteFunc(s.q.ups, func(u stored) bool { return u.id == next.id })
		}
		s.notifyLocked()
		s.mu.Unlock()
		if status < 200 || status >= 300 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.hookRetry):
			}
		}
	}
}
