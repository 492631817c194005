package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// chatMethods are the methods FailChannel applies to.
var chatMethods = map[string]bool{"chat.postMessage": true, "chat.update": true,
	"chat.postEphemeral": true, "reactions.add": true}

// serveAPI answers a Web API call.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	params, err := readParams(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	token := bearer(r)
	if token == "" {
		token = params["token"]
	}
	delete(params, "token")
	call := Call{Method: method, Token: token, Params: params, Time: time.Now()}

	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	want := s.opts.BotToken
	if method == "apps.connections.open" {
		want = s.opts.AppToken
	}
	var f *Failure
	if q := s.failures[method]; len(q) > 0 {
		f, s.failures[method] = &q[0], q[1:]
	} else if token != want {
		f = &Failure{Code: "invalid_auth"}
	} else if code := s.chanErr[params["channel"]]; code != "" && chatMethods[method] {
		f = &Failure{Code: code}
	} else if method == "chat.postMessage" && s.opts.PostLimit != nil && !s.posts.allowLocked(params["channel"], time.Now()) {
		f = &Failure{Status: http.StatusTooManyRequests, RetryAfter: 1}
	}
	if f != nil {
		call.Err = f.Code
		if f.Status != 0 {
			call.Err = "http_" + strconv.Itoa(f.Status)
		}
		s.calls = append(s.calls, call)
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		switch {
		case f.Status == http.StatusTooManyRequests:
			// Slack answers a rate-limited call 429 with Retry-After and
			// the ratelimited error in its usual body.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "ratelimited"})
		case f.Status != 0:
			http.Error(w, http.StatusText(f.Status), f.Status)
		default:
			writeJSON(w, map[string]any{"ok": false, "error": f.Code})
		}
		return
	}

	var resp map[string]any
	switch method {
	case "auth.test":
		resp = map[string]any{"url": "https://fake.slack.com/", "team": "Fake", "user": "bot",
			"team_id": TeamID, "user_id": BotUserID, "bot_id": BotID}
	case "apps.connections.open":
		resp = map[string]any{"url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket"}
	case "chat.postMessage":
		ts := s.nextTSLocked()
		call.Params["ts"] = ts
		resp = map[string]any{"channel": params["channel"], "ts": ts,
			"message": map[string]any{"text": params["text"], "ts": ts, "user": BotUserID}}
	case "chat.update":
		resp = map[string]any{"channel": params["channel"], "ts": params["ts"], "text": params["text"]}
	case "chat.postEphemeral":
		resp = map[string]any{"message_ts": s.nextTSLocked()}
	case "reactions.add":
		resp = map[string]any{}
	default:
		call.Err = "unknown_method"
		s.calls = append(s.calls, call)
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
		return
	}
	s.calls = append(s.calls, call)
	resp["ok"] = true
	writeJSON(w, resp)
}

// serveRespond records a response_url post.
func (s *Server) serveRespond(w http.ResponseWriter, r *http.Request) {
	params, err := readParams(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	params["response_id"] = r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	call := Call{Method: "response_url", Params: params, Time: time.Now()}
	if q := s.failures["response_url"]; len(q) > 0 {
		f := q[0]
		s.failures["response_url"] = q[1:]
		call.Err = "http_" + strconv.Itoa(f.Status)
		s.calls = append(s.calls, call)
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		http.Error(w, http.StatusText(f.Status), f.Status)
		return
	}
	s.calls = append(s.calls, call)
	_, _ = io.WriteString(w, "ok")
}

// readParams reads a form or a JSON object into strings.
func readParams(r *http.Request) (map[string]string, error) {
	params := map[string]string{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		if len(body) == 0 {
			return params, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("bad JSON: %w", err)
		}
		for k, v := range m {
			var str string
			if json.Unmarshal(v, &str) == nil {
				params[k] = str
			} else {
				params[k] = string(v)
			}
		}
		return params, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k, v := range r.Form {
		params[k] = v[0]
	}
	return params, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
