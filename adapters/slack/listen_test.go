package slack_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
)

// rawPost sends a request's headers (and no body) and returns the answer.
func rawPost(t *testing.T, endpoint, headers string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(fakeslack.Timeout))
	req := "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n" + headers + "\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	res.Body.Close()
	return res
}

// TestHTTPRefusesUnsignedBeforeTheBody: a request without the signature
// headers, or with a stale timestamp, is answered 401 and its connection
// closed before a byte of its body is read.
func TestHTTPRefusesUnsignedBeforeTheBody(t *testing.T) {
	e := newEnv(t, slack.ModeHTTP, nil)
	e.run(t, newRecorder(nil))
	ts, sig := fakeslack.Sign(fakeslack.SigningSecret, time.Now().Add(-6*time.Minute), nil)
	for name, h := range map[string]string{
		"no headers":      "",
		"no timestamp":    "X-Slack-Signature: " + sig + "\r\n",
		"not v0":          fmt.Sprintf("X-Slack-Request-Timestamp: %d\r\nX-Slack-Signature: v1=abc\r\n", time.Now().Unix()),
		"stale timestamp": "X-Slack-Request-Timestamp: " + ts + "\r\nX-Slack-Signature: " + sig + "\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			res := rawPost(t, e.endpoint, h)
			if res.StatusCode != http.StatusUnauthorized || !res.Close {
				t.Fatalf("answered %d (close %v), want 401 and the connection closed", res.StatusCode, res.Close)
			}
		})
	}
}

// TestHTTPBodyBudget: a request whose body does not fit in the process's
// body budget is answered 503 with Retry-After, before its body is read.
func TestHTTPBodyBudget(t *testing.T) {
	e := newEnv(t, slack.ModeHTTP, nil, adapters.WithBodyBudget(adapters.NewBodyBudget(64)))
	e.run(t, newRecorder(nil))
	ts, sig := fakeslack.Sign(fakeslack.SigningSecret, time.Now(), nil)
	res := rawPost(t, e.endpoint, "X-Slack-Request-Timestamp: "+ts+"\r\nX-Slack-Signature: "+sig+"\r\n")
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("answered %d (Retry-After %q), want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

// TestHTTPRetryAnsweredAfterItsOriginal: Slack's retry of an event still
// being handled waits for its original, and is answered 200 only once the
// original was acknowledged; the event is handled once.
func TestHTTPRetryAnsweredAfterItsOriginal(t *testing.T) {
	clk := newManualClock() // the ack deadline never passes unless told
	e := newEnv(t, slack.ModeHTTP, nil, clk.option())
	h := newHolding("CDUP")
	e.run(t, newRecorder(h.handle))
	body, id := e.fake.EventBody(e.fake.Message("CDUP", "U1", "once"))
	url := e.endpoint + "/slack/events"
	orig, retry := make(chan int, 1), make(chan int, 1)
	go func() { orig <- e.fake.PostSigned(t, url, "application/json", body).Status }()
	h.awaitHeld(t, "once")
	go func() { retry <- e.fake.PostSigned(t, url, "application/json", body, fakeslack.AsRetry(1)).Status }()
	// The retry has come in (it is logged before it is answered).
	for deadline := time.Now().Add(fakeslack.Timeout); !strings.Contains(e.logs.String(), "event_id="+id+" retry=1"); {
		if time.Now().After(deadline) {
			t.Fatal("the retry never came in")
		}
		time.Sleep(time.Millisecond) // the log is the only sign of it
	}
	select {
	case st := <-retry:
		t.Fatalf("the retry answered %d while its original was being handled", st)
	default:
	}
	h.letGo(t, "once")
	if st := <-orig; st != http.StatusOK {
		t.Fatalf("original answered %d", st)
	}
	if st := <-retry; st != http.StatusOK {
		t.Fatalf("retry answered %d after its original was acknowledged, want 200", st)
	}
	select {
	case text := <-h.held:
		t.Fatalf("%q handled twice", text)
	default:
	}
}
