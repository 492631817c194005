package order_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/bots/order"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
)

// tgChat is one Telegram chat with the bot, through the real adapter and
// a fake Bot API.
type tgChat struct {
	t    *testing.T
	srv  *telegramtest.Server
	chat int64
	seen int // sendMessage calls already looked at
}

// next returns the next message the bot sent, with the callback data of
// its inline keyboard's buttons by their text.
func (c *tgChat) next() (string, map[string]string) {
	c.t.Helper()
	calls, err := c.srv.AwaitCalls("sendMessage", c.seen+1, 10*time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	call := calls[c.seen]
	c.seen++
	buttons := map[string]string{}
	if rm := call.Params.Get("reply_markup"); rm != "" {
		var kb struct {
			InlineKeyboard [][]struct {
				Text string `json:"text"`
				Data string `json:"callback_data"`
			} `json:"inline_keyboard"`
		}
		if err := json.Unmarshal([]byte(rm), &kb); err != nil {
			c.t.Fatalf("reply_markup %s: %v", rm, err)
		}
		for _, row := range kb.InlineKeyboard {
			for _, b := range row {
				buttons[b.Text] = b.Data
			}
		}
	}
	return call.Params.Get("text"), buttons
}

func (c *tgChat) expect(want string, wantButtons ...string) map[string]string {
	c.t.Helper()
	text, buttons := c.next()
	if text != want {
		c.t.Fatalf("the bot sent %q; want %q", text, want)
	}
	for _, b := range wantButtons {
		if buttons[b] == "" {
			c.t.Fatalf("%q has no button %q: %v", text, b, buttons)
		}
	}
	return buttons
}

// press presses a button and checks that the press was answered.
func (c *tgChat) press(data string) {
	c.t.Helper()
	answered := len(c.srv.Calls("answerCallbackQuery"))
	c.srv.Callback(c.chat, c.chat, 1, data)
	if _, err := c.srv.AwaitCalls("answerCallbackQuery", answered+1, 10*time.Second); err != nil {
		c.t.Fatalf("the button's press was not answered: %v", err)
	}
}

// TestOrderOnTelegram: the same dialog on Telegram, with inline keyboards
// whose presses come back as callback queries, each answered.
func TestOrderOnTelegram(t *testing.T) {
	srv := telegramtest.New(t)
	a, err := telegram.New(telegram.Config{
		Name:     "telegram",
		Token:    telegram.Secret(srv.Token()),
		Endpoint: srv.Endpoint(),
		Polling:  telegram.Polling{Timeout: time.Second},
		Limits:   telegram.Limits{Global: -1, Chat: -1, Group: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
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

	c := &tgChat{t: t, srv: srv, chat: 7}
	srv.Text(c.chat, c.chat, "/start")
	drinks := c.expect("Which drink?", "latte", "tea", "espresso")
	c.press(drinks["latte"])
	sizes := c.expect("Which size?", "S", "M", "L")
	c.press(drinks["tea"]) // a button of the earlier question: answered, ignored
	if got := srv.Calls("answerCallbackQuery"); got[len(got)-1].Params.Get("text") == "" {
		t.Fatal("a stale button's press was answered without a note")
	}
	c.press(sizes["M"])
	c.expect("Name for the order?")
	srv.Text(c.chat, c.chat, "Grace")
	confirm := c.expect("M latte for Grace?", "yes", "no")
	c.press(confirm["yes"])
	c.expect("Ordered: M latte for Grace.")
	for _, data := range []string{drinks["latte"], sizes["M"], confirm["yes"]} {
		if len(data) > 64 {
			t.Fatalf("callback data %q is longer than Telegram's 64 bytes", data)
		}
	}
}
