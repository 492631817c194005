package order_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/bots/order"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
)

// slackChat is one Slack channel with the bot, through the real adapter
// over the Events API and a fake Slack.
type slackChat struct {
	t        *testing.T
	fake     *fakeslack.Server
	endpoint string
	channel  string
	seen     int
}

// expect checks the next message the bot posted and returns its buttons'
// values by their text.
func (c *slackChat) expect(want string, wantButtons ...string) map[string]string {
	c.t.Helper()
	calls := c.fake.WaitCalls(c.t, "chat.postMessage", c.seen+1)
	call := calls[c.seen]
	c.seen++
	buttons := map[string]string{}
	if raw := call.Params["blocks"]; raw != "" {
		var blocks []struct {
			Type     string `json:"type"`
			Text     struct{ Text string }
			Elements []struct {
				Text  struct{ Text string }
				Value string `json:"value"`
			} `json:"elements"`
		}
		if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
			c.t.Fatalf("blocks %s: %v", raw, err)
		}
		for _, b := range blocks {
			if b.Type == "section" && b.Text.Text != want {
				c.t.Fatalf("the bot asked %q; want %q", b.Text.Text, want)
			}
			for _, e := range b.Elements {
				buttons[e.Text.Text] = e.Value
			}
		}
	} else if call.Text() != want {
		c.t.Fatalf("the bot said %q; want %q", call.Text(), want)
	}
	for _, b := range wantButtons {
		if buttons[b] == "" {
			c.t.Fatalf("%q has no button %q: %v", want, b, buttons)
		}
	}
	return buttons
}

func (c *slackChat) say(text string) {
	c.t.Helper()
	if res, _ := c.fake.PostEvent(c.t, c.endpoint+"/slack/events", c.fake.Message(c.channel, "U1", text)); res.Status != http.StatusOK {
		c.t.Fatalf("event: %d", res.Status)
	}
}

func (c *slackChat) press(value string) {
	c.t.Helper()
	res := c.fake.PostInteraction(c.t, c.endpoint+"/slack/interactivity", c.fake.BlockAction(c.channel, "U1", "choice", value, "1700000000.000100"))
	if res.Status != http.StatusOK {
		c.t.Fatalf("the button's press was answered %d", res.Status)
	}
}

// TestOrderOnSlack: the same dialog on Slack, with Block Kit buttons whose
// presses come back as block actions.
func TestOrderOnSlack(t *testing.T) {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	fake := fakeslack.New(t, fakeslack.Options{})
	a, err := slack.New(slack.Config{Name: "slack", Mode: slack.ModeHTTP, BotToken: fakeslack.BotToken,
		SigningSecret: fakeslack.SigningSecret, APIURL: fake.APIURL}, slack.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	h := adapters.NewHost(a)
	done := make(chan error, 1)
	go func() {
		done <- h.Run(context.Background(), session.Middleware(memory.New())(order.New(order.Config{})))
	}()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		<-done
	}()
	<-h.Ready()

	c := &slackChat{t: t, fake: fake, endpoint: srv.URL, channel: "C42"}
	c.say("order please")
	drinks := c.expect("Which drink?", "latte", "tea", "espresso")
	c.press(drinks["espresso"])
	sizes := c.expect("Which size?", "S", "M", "L")
	c.press(sizes["S"])
	c.expect("Name for the order?")
	c.say("Linus")
	confirm := c.expect("S espresso for Linus?", "yes", "no")
	c.press(confirm["yes"])
	c.expect("Ordered: S espresso for Linus.")
}
