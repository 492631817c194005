package slack_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
)

func isReady(a *adapters.Host) bool {
	select {
	case <-a.Ready():
		return true
	default:
		return false
	}
}

func awaitReady(t *testing.T, a *adapters.Host) {
	t.Helper()
	select {
	case <-a.Ready():
	case <-time.After(fakeslack.Timeout):
		t.Fatal("the adapter did not become ready")
	}
}

// In socket mode the adapter is ready once auth.test succeeded and Slack
// said hello on the socket, and then serves events.
func TestReadySocketMode(t *testing.T) {
	e := newEnv(t, slack.ModeSocket, nil)
	if isReady(e.h) {
		t.Fatal("ready before Run")
	}
	rec := newRecorder(nil)
	e.start(t, rec)
	awaitReady(t, e.h)
	if n, _ := e.fake.Connects(); n < 1 || len(e.fake.Calls("auth.test")) != 1 {
		t.Fatalf("ready after %d connections and auth.test calls %+v", n, e.fake.Calls("auth.test"))
	}
	if id := e.a.Identity(); id.UserID != fakeslack.BotUserID {
		t.Fatalf("ready with identity %+v", id)
	}
	e.fake.PushEvent(e.fake.Message("C1", "U1", "hello"))
	if g := rec.next(t); g.ev.(slack.Message).Text != "hello" {
		t.Fatalf("got %+v", g.ev)
	}
}

// An adapter that fails auth.test, or whose socket is refused after it,
// never becomes ready.
func TestReadyNeverOnInvalidAuth(t *testing.T) {
	for _, method := range []string{"auth.test", "apps.connections.open"} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t, slack.ModeSocket, nil)
			e.fake.Fail(method, fakeslack.Failure{Code: "invalid_auth"})
			if err := e.h.Run(context.Background(), newRecorder(nil)); err == nil {
				t.Fatal("Run succeeded")
			}
			if isReady(e.h) {
				t.Fatal("ready though Slack refused the token")
			}
		})
	}
}

// In http mode without Listen the adapter is ready once auth.test
// succeeded: Handler, mounted elsewhere, serves from then on.
func TestReadyHTTPMounted(t *testing.T) {
	e := newEnv(t, slack.ModeHTTP, nil)
	rec := newRecorder(nil)
	e.start(t, rec)
	awaitReady(t, e.h)
	if n := len(e.fake.Calls("auth.test")); n != 1 {
		t.Fatalf("ready after %d auth.test calls", n)
	}
	if res, _ := e.fake.PostEvent(t, e.endpoint+"/slack/events", e.fake.Message("C1", "U1", "hi")); res.Status != http.StatusOK {
		t.Fatalf("event answered %d", res.Status)
	}
}

// With Listen, the adapter is ready once it listens there, and serves
// the endpoints; on an address that is taken it never is.
func TestReadyHTTPListen(t *testing.T) {
	// A free port, found by listening and letting go: the adapter takes
	// it at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e := newEnv(t, slack.ModeHTTP, func(c *slack.Config) { c.Listen = addr })
	rec := newRecorder(nil)
	e.start(t, rec)
	awaitReady(t, e.h)
	res, _ := e.fake.PostEvent(t, "http://"+addr+"/slack/events", e.fake.Message("C1", "U1", "hi"))
	if res.Status != http.StatusOK {
		t.Fatalf("event to the listen address answered %d", res.Status)
	}
	if g := rec.next(t); g.ev.(slack.Message).Text != "hi" {
		t.Fatalf("got %+v", g.ev)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	b := newEnv(t, slack.ModeHTTP, func(c *slack.Config) { c.Listen = taken.Addr().String() })
	if err := b.h.Run(context.Background(), newRecorder(nil)); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("Run on a taken address: %v", err)
	}
	if isReady(b.h) {
		t.Fatal("ready though it could not listen")
	}
}
