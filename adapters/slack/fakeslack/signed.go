package fakeslack

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// Message returns a message event from user in channel, with a fresh ts.
// Set "thread_ts", "subtype", "bot_id" or "files" on it as needed.
func (s *Server) Message(channel, user, text string) map[string]any {
	s.mu.Lock()
	ts := s.nextTSLocked()
	s.mu.Unlock()
	return map[string]any{"type": "message", "channel": channel, "user": user, "text": text,
		"ts": ts, "event_ts": ts, "channel_type": channelType(channel), "team": TeamID}
}

// AppMention returns an app_mention event.
func (s *Server) AppMention(channel, user, text string) map[string]any {
	m := s.Message(channel, user, text)
	m["type"] = "app_mention"
	delete(m, "channel_type")
	return m
}

// Command returns a slash command's fields, with a response_url the fake
// serves (its id is the trigger id) and a trigger id.
func (s *Server) Command(channel, user, command, text string) map[string]string {
	s.mu.Lock()
	s.ts++
	id := "trigger-" + strconv.FormatInt(s.ts, 10)
	s.mu.Unlock()
	return map[string]string{"token": "legacy", "team_id": TeamID, "team_domain": "fake",
		"channel_id": channel, "channel_name": "name-" + channel, "user_id": user, "user_name": "name-" + user,
		"command": command, "text": text, "response_url": s.ResponseURL(id), "trigger_id": id, "api_app_id": AppID}
}

// BlockAction returns a block_actions interaction payload: user pressed
// the button actionID carrying value, on message messageTS in channel.
func (s *Server) BlockAction(channel, user, actionID, value, messageTS string) map[string]any {
	s.mu.Lock()
	s.ts++
	id := "action-" + strconv.FormatInt(s.ts, 10)
	s.mu.Unlock()
	return map[string]any{
		"type": "block_actions", "team": map[string]any{"id": TeamID, "domain": "fake"},
		"user":         map[string]any{"id": user, "username": "name-" + user},
		"api_app_id":   AppID,
		"channel":      map[string]any{"id": channel, "name": "name-" + channel},
		"container":    map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channel},
		"message":      map[string]any{"type": "message", "ts": messageTS, "text": "buttons"},
		"trigger_id":   id,
		"response_url": s.ResponseURL(id),
		"actions": []map[string]any{{"type": "button", "action_id": actionID, "block_id": "b1",
			"value": value, "action_ts": "1700000000.1"}},
	}
}

func channelType(id string) string {
	switch {
	case len(id) > 0 && id[0] == 'D':
		return "im"
	case len(id) > 0 && id[0] == 'G':
		return "group"
	}
	return "channel"
}

// EventBody wraps an inner event in an event_callback payload with a fresh
// event id.
func (s *Server) EventBody(inner any) (body []byte, eventID string) {
	s.mu.Lock()
	s.ts++
	eventID = fmt.Sprintf("Ev%08d", s.ts)
	s.mu.Unlock()
	body, err := json.Marshal(map[string]any{"token": "legacy", "team_id": TeamID, "api_app_id": AppID,
		"event": inner, "type": "event_callback", "event_id": eventID, "event_time": 1700000000,
		"authorizations": []map[string]any{{"team_id": TeamID, "user_id": BotUserID, "is_bot": true}}})
	if err != nil {
		panic(err) // the caller passed something JSON cannot encode
	}
	return body, eventID
}

// Sign returns the X-Slack-Request-Timestamp and X-Slack-Signature headers
// for body: "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)).
func Sign(secret string, at time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return timestamp, "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// PostOption changes how a request is signed or marked.
type PostOption func(*postOpts)

type postOpts struct {
	secret    string
	at        time.Time
	signature string
	retry     int
}

// WithSecret signs with another secret (a wrong signature).
func WithSecret(secret string) PostOption { return func(o *postOpts) { o.secret = secret } }

// SignedAt signs with another timestamp (an old one).
func SignedAt(at time.Time) PostOption { return func(o *postOpts) { o.at = at } }

// WithSignature sends sig as the signature as it is.
func WithSignature(sig string) PostOption { return func(o *postOpts) { o.signature = sig } }

// AsRetry marks the request as Slack's n-th retry (X-Slack-Retry-Num).
func AsRetry(n int) PostOption { return func(o *postOpts) { o.retry = n } }

// Result is an endpoint's answer.
type Result struct {
	Status int
	Body   string
}

// PostSigned posts body to url, signed with the fake's secret unless opts
// say otherwise.
func (s *Server) PostSigned(tb testing.TB, url, contentType string, body []byte, opts ...PostOption) Result {
	tb.Helper()
	o := postOpts{secret: s.opts.SigningSecret, at: time.Now()}
	for _, opt := range opts {
		opt(&o)
	}
	ts, sig := Sign(o.secret, o.at, body)
	if o.signature != "" {
		sig = o.signature
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("fakeslack: %v", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	if o.retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(o.retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatalf("fakeslack: post to the endpoint: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Result{Status: resp.StatusCode, Body: string(b)}
}

// PostEvent posts an Events API request around inner and returns the
// answer and the event id.
func (s *Server) PostEvent(tb testing.TB, url string, inner any, opts ...PostOption) (Result, string) {
	tb.Helper()
	body, id := s.EventBody(inner)
	return s.PostSigned(tb, url, "application/json", body, opts...), id
}

// PostCommand posts a slash command, form-encoded as Slack does.
func (s *Server) PostCommand(tb testing.TB, endpoint string, cmd map[string]string, opts ...PostOption) Result {
	tb.Helper()
	form := url.Values{}
	for k, v := range cmd {
		form.Set(k, v)
	}
	return s.PostSigned(tb, endpoint, "application/x-www-form-urlencoded", []byte(form.Encode()), opts...)
}

// PostInteraction posts an interaction payload, as a form field "payload"
// holding JSON, as Slack does.
func (s *Server) PostInteraction(tb testing.TB, endpoint string, payload any, opts ...PostOption) Result {
	tb.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		tb.Fatalf("fakeslack: %v", err)
	}
	form := url.Values{"payload": {string(b)}}
	return s.PostSigned(tb, endpoint, "application/x-www-form-urlencoded", []byte(form.Encode()), opts...)
}
