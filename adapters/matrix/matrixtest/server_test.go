package matrixtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// client speaks raw HTTP to the server, to check its formats.
type client struct {
	t   *testing.T
	srv *matrixtest.Server
}

func (c client) do(method, path, token, body string) (int, map[string]any, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL()+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		c.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, b)
	}
	return resp.StatusCode, out, resp.Header
}

func newClient(t *testing.T) client {
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	return client{t: t, srv: matrixtest.New(t)}
}

func TestErrorsAndAuth(t *testing.T) {
	c := newClient(t)
	for _, tc := range []struct {
		method, path, token string
		status              int
		code                string
	}{
		{"GET", "/_matrix/client/v3/account/whoami", "", 401, "M_MISSING_TOKEN"},
		{"GET", "/_matrix/client/v3/account/whoami", "nope", 401, "M_UNKNOWN_TOKEN"},
		{"GET", "/_matrix/client/v3/nothing", c.srv.Token(), 404, "M_UNRECOGNIZED"},
		{"GET", "/_matrix/client/v3/sync?since=x", c.srv.Token(), 400, "M_INVALID_PARAM"},
		{"PUT", "/_matrix/client/v3/rooms/!a:x/send/m.room.message/t1", c.srv.Token(), 403, "M_FORBIDDEN"},
		{"POST", "/_matrix/client/v3/join/!unknown:x", c.srv.Token(), 404, "M_NOT_FOUND"},
	} {
		status, body, _ := c.do(tc.method, tc.path, tc.token, `{"msgtype":"m.text","body":"x"}`)
		if status != tc.status || body["errcode"] != tc.code || body["error"] == "" {
			t.Errorf("%s %s: %d %v, want %d with errcode %s and an error", tc.method, tc.path, status, body, tc.status, tc.code)
		}
	}
	status, body, _ := c.do("GET", "/_matrix/client/v3/account/whoami", c.srv.Token(), "")
	if status != 200 || body["user_id"] != c.srv.UserID() {
		t.Errorf("whoami: %d %v", status, body)
	}
}

func TestSyncStream(t *testing.T) {
	c := newClient(t)
	c.srv.Joined("!a:x")
	c.srv.Say("!a:x", "@ada:x", "one")
	_, first, _ := c.do("GET", "/_matrix/client/v3/sync?timeout=0", c.srv.Token(), "")
	events := first["rooms"].(map[string]any)["join"].(map[string]any)["!a:x"].(map[string]any)["timeline"].(map[string]any)["events"].([]any)
	if len(events) != 1 || events[0].(map[string]any)["content"].(map[string]any)["body"] != "one" {
		t.Fatalf("first sync: %v", first)
	}
	next := first["next_batch"].(string)
	// A long poll answers when something comes.
	said := make(chan error, 1)
	go func() {
		err := c.srv.AwaitSync(5 * time.Second)
		c.srv.Say("!a:x", "@ada:x", "two")
		said <- err
	}()
	_, second, _ := c.do("GET", "/_matrix/client/v3/sync?timeout=5000&since="+next, c.srv.Token(), "")
	if err := <-said; err != nil {
		t.Fatal(err)
	}
	if second["next_batch"] == next {
		t.Fatalf("second sync: %v", second)
	}
	// Resuming from an old token gets the same events again.
	_, again, _ := c.do("GET", "/_matrix/client/v3/sync?timeout=0&since="+next, c.srv.Token(), "")
	if again["next_batch"] != second["next_batch"] {
		t.Fatalf("sync again from %s: next_batch %v, want %v", next, again["next_batch"], second["next_batch"])
	}
	// An empty long poll times out with no rooms and the same token.
	start := time.Now()
	_, empty, _ := c.do("GET", "/_matrix/client/v3/sync?timeout=50&since="+second["next_batch"].(string), c.srv.Token(), "")
	if empty["next_batch"] != second["next_batch"] || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("empty sync: %v after %v", empty, time.Since(start))
	}
}

// TestTxnIdempotent: one event per transaction id; a new id for a message
// whose answer was lost is recorded as a violation.
func TestTxnIdempotent(t *testing.T) {
	c := newClient(t)
	c.srv.Joined("!a:x")
	path := "/_matrix/client/v3/rooms/!a:x/send/m.room.message/"
	msg := `{"msgtype":"m.text","body":"hi"}`
	_, one, _ := c.do("PUT", path+"t1", c.srv.Token(), msg)
	_, two, _ := c.do("PUT", path+"t1", c.srv.Token(), msg)
	if one["event_id"] == nil || one["event_id"] != two["event_id"] || len(c.srv.Sent()) != 1 {
		t.Fatalf("the same txn: %v and %v, %d events", one, two, len(c.srv.Sent()))
	}
	if v := c.srv.Violations(); len(v) != 0 {
		t.Fatalf("violations: %q", v)
	}
	c.srv.LoseAnswers(1)
	req, _ := http.NewRequest("PUT", c.srv.URL()+path+"t2", strings.NewReader(`{"msgtype":"m.text","body":"lost"}`))
	req.Header.Set("Authorization", "Bearer "+c.srv.Token())
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a lost answer was answered")
	}
	c.do("PUT", path+"t3", c.srv.Token(), `{"msgtype":"m.text","body":"lost"}`)
	if v := c.srv.Violations(); len(v) != 1 || !strings.Contains(v[0], "new transaction id") {
		t.Fatalf("violations after a retry with a new txn id: %q, want one", v)
	}
	if status, body, _ := c.do("PUT", path+"t4", c.srv.Token(), `not json`); status != 400 || body["errcode"] != "M_NOT_JSON" {
		t.Errorf("a body that is not JSON: %d %v", status, body)
	}
}

// TestRateLimitViolation: a send before retry_after_ms passed is a
// violation; one after it is not.
func TestRateLimitViolation(t *testing.T) {
	c := newClient(t)
	c.srv.Joined("!a:x")
	c.srv.SetRateLimit(matrixtest.RateLimit{Burst: 1, Per: time.Hour, RetryAfter: time.Hour})
	path := "/_matrix/client/v3/rooms/!a:x/send/m.room.message/"
	msg := `{"msgtype":"m.text","body":"x"}`
	if status, _, _ := c.do("PUT", path+"1", c.srv.Token(), msg); status != 200 {
		t.Fatalf("first send: %d", status)
	}
	status, body, h := c.do("PUT", path+"2", c.srv.Token(), msg)
	if status != 429 || body["errcode"] != "M_LIMIT_EXCEEDED" || body["retry_after_ms"].(float64) != 3600000 || h.Get("Retry-After") != "3600" {
		t.Fatalf("over the limit: %d %v Retry-After %q", status, body, h.Get("Retry-After"))
	}
	if v := c.srv.Violations(); len(v) != 0 {
		t.Fatalf("the first 429 is no violation: %q", v)
	}
	c.do("PUT", path+"2", c.srv.Token(), msg)
	if v := c.srv.Violations(); len(v) != 1 {
		t.Fatalf("a send while limited: violations %q, want one", v)
	}
}

// TestLimitedAndMessages: a sync over the timeline limit answers the
// latest events with limited and a prev_batch, from which /messages pages
// back, newest first, down to the since token.
func TestLimitedAndMessages(t *testing.T) {
	c := newClient(t)
	c.srv.Joined("!a:x")
	_, first, _ := c.do("GET", "/_matrix/client/v3/sync?timeout=0", c.srv.Token(), "")
	since := first["next_batch"].(string)
	c.srv.SetTimelineLimit(2)
	for _, text := range []string{"1", "2", "3", "4", "5"} {
		c.srv.Say("!a:x", "@ada:x", text)
	}
	_, resp, _ := c.do("GET", "/_matrix/client/v3/sync?timeout=0&since="+since, c.srv.Token(), "")
	tl := resp["rooms"].(map[string]any)["join"].(map[string]any)["!a:x"].(map[string]any)["timeline"].(map[string]any)
	if tl["limited"] != true || len(tl["events"].([]any)) != 2 {
		t.Fatalf("timeline %v, want the 2 latest, limited", tl)
	}
	var bodies []string
	from := tl["prev_batch"].(string)
	for from != "" {
		_, page, _ := c.do("GET", "/_matrix/client/v3/rooms/!a:x/messages?dir=b&limit=2&from="+from+"&to="+since, c.srv.Token(), "")
		for _, ev := range page["chunk"].([]any) {
			bodies = append(bodies, ev.(map[string]any)["content"].(map[string]any)["body"].(string))
		}
		from, _ = page["end"].(string)
	}
	if got := strings.Join(bodies, ","); got != "3,2,1" {
		t.Fatalf("paged back %s, want 3,2,1", got)
	}
}
