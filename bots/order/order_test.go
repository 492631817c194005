package order_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/bots/order"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type chat struct {
	*consumertest.Chat
	t *testing.T
}

func (c chat) says(text string, want ...string) {
	c.t.Helper()
	c.Say(text)
	for _, w := range want {
		if got := c.ReceiveSay(); got != w {
			c.t.Fatalf("after %q the bot said %q; want %q", text, got, w)
		}
	}
	c.ReceiveNothing()
}

const (
	drinks = "Which drink?\n1. latte\n2. tea\n3. espresso"
	sizes  = "Which size?\n1. S\n2. M\n3. L"
)

// TestOrderOnTextProtocols drives the order to its end with typed numbers
// and words, as on IRC, the console or the web page, and a second order
// that remembers the name across an idle end.
func TestOrderOnTextProtocols(t *testing.T) {
	app := session.Middleware(memory.New())(order.New(order.Config{}))
	c := chat{consumertest.NewChat(t, app), t}
	c.says("/last", "No order yet.")
	c.says("hi", drinks)
	c.says("1", sizes)
	c.says("/back", drinks)
	c.says("tea", sizes)
	c.says("L", "Name for the order?")
	c.says("Ada", "L tea for Ada?\n1. yes\n2. no")
	c.says("yes", "Ordered: L tea for Ada.")
	c.End(scope.ReasonIdle)

	again := chat{consumertest.NewChat(t, app), t}
	again.says("/last", "Your last order: L tea for Ada.")
	again.says("hello", drinks)
	again.says("3", sizes)
	again.says("1", "Name for the order? (or type another)\n1. Ada")
	again.says("1", "S espresso for Ada?\n1. yes\n2. no")
	again.says("/cancel", "Cancelled.")
}
