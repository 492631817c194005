package discordtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters/discord/discordtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The fake is checked here with raw HTTP and WebSocket, against the
// formats of Discord's documentation, so that the adapter's tests rest on
// a fake that speaks Discord rather than whatever the adapter expects.

func request(t *testing.T, srv *discordtest.Server, method, path, token, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.APIURL()+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bot "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &out)
	return resp, out
}

func TestRESTFormatsAndRateLimitHeaders(t *testing.T) {
	srv := discordtest.New(t, discordtest.WithLimits(discordtest.Limits{Route: 2, Window: time.Minute}))
	defer http.DefaultClient.CloseIdleConnections()
	if resp, body := request(t, srv, "GET", "users/@me", "wrong", ""); resp.StatusCode != 401 || body["message"] != "401: Unauthorized" {
		t.Fatalf("bad token: %d %v", resp.StatusCode, body)
	}
	if _, body := request(t, srv, "GET", "gateway/bot", srv.Token(), ""); !strings.HasPrefix(body["url"].(string), "ws://") || body["shards"] != 1.0 {
		t.Fatalf("gateway/bot: %v", body)
	}
	resp, body := request(t, srv, "POST", "channels/1/messages", srv.Token(), `{"content":"hi","nonce":"n1","enforce_nonce":true}`)
	if resp.StatusCode != 200 || body["content"] != "hi" || body["channel_id"] != "1" {
		t.Fatalf("create message: %d %v", resp.StatusCode, body)
	}
	h := resp.Header
	if h.Get("X-RateLimit-Limit") != "2" || h.Get("X-RateLimit-Remaining") != "1" || h.Get("X-RateLimit-Bucket") == "" {
		t.Fatalf("headers %v", h)
	}
	if after, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64); err != nil || after <= 59 || after > 60 {
		t.Fatalf("X-RateLimit-Reset-After %q", h.Get("X-RateLimit-Reset-After"))
	}
	if reset, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset"), 64); err != nil || reset < float64(time.Now().Unix()+59) {
		t.Fatalf("X-RateLimit-Reset %q", h.Get("X-RateLimit-Reset"))
	}
	// The same nonce again: the first message, not a second one.
	if _, body := request(t, srv, "POST", "channels/1/messages", srv.Token(), `{"content":"hi","nonce":"n1","enforce_nonce":true}`); len(srv.Posted()) != 1 || body["content"] != "hi" {
		t.Fatalf("a repeated nonce posted %d messages", len(srv.Posted()))
	}
	resp, body = request(t, srv, "POST", "channels/1/messages", srv.Token(), `{"content":"over"}`)
	if resp.StatusCode != 429 || body["global"] != false || body["retry_after"].(float64) <= 59 || resp.Header.Get("Retry-After") != "60" ||
		resp.Header.Get("X-RateLimit-Remaining") != "0" || resp.Header.Get("X-RateLimit-Scope") != "user" {
		t.Fatalf("over the bucket: %d %v %v", resp.StatusCode, body, resp.Header)
	}
	request(t, srv, "POST", "channels/1/messages", srv.Token(), `{"content":"again"}`)
	v := srv.Violations()
	if len(v) != 2 || v[0].Kind != "bucket" || v[1].Kind != "retry_after" {
		t.Fatalf("violations %v", v)
	}
	// Another channel is another bucket.
	srv.Refuse("2", 50013)
	if resp, body := request(t, srv, "POST", "channels/2/messages", srv.Token(), `{"content":"x"}`); resp.StatusCode != 403 || body["code"] != 50013.0 || body["message"] != "Missing Permissions" {
		t.Fatalf("refused: %d %v", resp.StatusCode, body)
	}
	if resp, body := request(t, srv, "POST", "channels/3/messages", srv.Token(), `{"content":""}`); resp.StatusCode != 400 || body["code"] != 50035.0 {
		t.Fatalf("empty: %d %v", resp.StatusCode, body)
	}
}

func dial(t *testing.T, srv *discordtest.Server, query string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL(), "http")+"/gateway"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type frame struct {
	Op int             `json:"op"`
	S  int64           `json:"s"`
	T  string          `json:"t"`
	D  json.RawMessage `json:"d"`
}

func readFrame(t *testing.T, c *websocket.Conn) frame {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f frame
	if err := c.ReadJSON(&f); err != nil {
		t.Fatal(err)
	}
	return f
}

func closeCode(t *testing.T, c *websocket.Conn) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				return ce.Code
			}
			t.Fatalf("want a close frame, got %v", err)
		}
	}
}

func TestGatewayIdentifyResumeAndCloseCodes(t *testing.T) {
	srv := discordtest.New(t)
	if code := closeCode(t, dial(t, srv, "?v=9&encoding=json")); code != 4012 {
		t.Fatalf("API v9: close %d, want 4012", code)
	}
	c := dial(t, srv, "?v=10&encoding=json")
	if f := readFrame(t, c); f.Op != 10 || !strings.Contains(string(f.D), `"heartbeat_interval":41250`) {
		t.Fatalf("HELLO: %+v", f)
	}
	_ = c.WriteJSON(map[string]any{"op": 1, "d": nil})
	if f := readFrame(t, c); f.Op != 11 {
		t.Fatalf("heartbeat ACK: %+v", f)
	}
	_ = c.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": srv.Token(), "intents": 1 << 9}})
	ready := readFrame(t, c)
	var r struct {
		SessionID string `json:"session_id"`
		Resume    string `json:"resume_gateway_url"`
	}
	if json.Unmarshal(ready.D, &r); ready.T != "READY" || ready.S != 1 || r.SessionID == "" || r.Resume == "" {
		t.Fatalf("READY: %+v", ready)
	}
	srv.Say(discordtest.Message{ChannelID: "1", Content: "one"})
	if f := readFrame(t, c); f.T != "MESSAGE_CREATE" || f.S != 2 || !strings.Contains(string(f.D), `"content":"one"`) {
		t.Fatalf("MESSAGE_CREATE: %+v", f)
	}
	srv.Drop()
	srv.Say(discordtest.Message{ChannelID: "1", Content: "two"})
	c2 := dial(t, srv, "?v=10&encoding=json")
	readFrame(t, c2)
	_ = c2.WriteJSON(map[string]any{"op": 6, "d": map[string]any{"token": srv.Token(), "session_id": r.SessionID, "seq": 1}})
	for _, want := range []struct {
		s int64
		t string
	}{{2, "MESSAGE_CREATE"}, {3, "MESSAGE_CREATE"}, {4, "RESUMED"}} {
		if f := readFrame(t, c2); f.S != want.s || f.T != want.t {
			t.Fatalf("replay: %+v, want %s with s %d", f, want.t, want.s)
		}
	}
	// Closing with 1000 ends the session: a RESUME of it is refused. The
	// first connection's answer to the fake's 4012 may be recorded too,
	// if it came before the fake hung up: the 1000 is awaited, not a count.
	_ = c2.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
	srv.Await(t, "the close", func(c discordtest.Counts) bool { return slices.Contains(c.Closes, 1000) })
	c3 := dial(t, srv, "?v=10&encoding=json")
	readFrame(t, c3)
	_ = c3.WriteJSON(map[string]any{"op": 6, "d": map[string]any{"token": srv.Token(), "session_id": r.SessionID, "seq": 4}})
	if f := readFrame(t, c3); f.Op != 9 || string(f.D) != "false" {
		t.Fatalf("RESUME of an ended session: %+v, want INVALID_SESSION false", f)
	}
	_ = c3.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": "wrong", "intents": 0}})
	if code := closeCode(t, c3); code != 4004 {
		t.Fatalf("bad token: close %d, want 4004", code)
	}
	c4 := dial(t, srv, "?v=10&encoding=json")
	readFrame(t, c4)
	_ = c4.WriteJSON(map[string]any{"op": 3, "d": map[string]any{}})
	if code := closeCode(t, c4); code != 4003 {
		t.Fatalf("a payload before IDENTIFY: close %d, want 4003", code)
	}
}
