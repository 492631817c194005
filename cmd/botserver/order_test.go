package main_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters/slack/fakeslack"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/internal/browsertest"
)

// tgQuestion waits for the n-th message botserver sent to Telegram (from
// 1) and returns its text and its inline keyboard's callback data by the
// buttons' texts.
func tgQuestion(t *testing.T, tg *telegramtest.Server, n int) (string, map[string]string) {
	t.Helper()
	calls, err := tg.AwaitCalls("sendMessage", n, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var kb struct {
		InlineKeyboard [][]struct {
			Text string `json:"text"`
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	buttons := map[string]string{}
	if rm := calls[n-1].Params.Get("reply_markup"); rm != "" {
		if err := json.Unmarshal([]byte(rm), &kb); err != nil {
			t.Fatalf("reply_markup %s: %v", rm, err)
		}
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			buttons[b.Text] = b.Data
		}
	}
	return calls[n-1].Params.Get("text"), buttons
}

// slackQuestion waits for the n-th message botserver posted to Slack and
// returns its text and its buttons' values by their texts.
func slackQuestion(t *testing.T, sl *fakeslack.Server, n int) (string, map[string]string) {
	t.Helper()
	call := sl.WaitCalls(t, "chat.postMessage", n)[n-1]
	var blocks []struct {
		Type     string `json:"type"`
		Text     struct{ Text string }
		Elements []struct {
			Text  struct{ Text string }
			Value string `json:"value"`
		} `json:"elements"`
	}
	buttons := map[string]string{}
	if raw := call.Params["blocks"]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
			t.Fatalf("blocks %s: %v", raw, err)
		}
	}
	text := call.Text()
	for _, b := range blocks {
		if b.Type == "section" {
			text = b.Text.Text
		}
		for _, e := range b.Elements {
			buttons[e.Text.Text] = e.Value
		}
	}
	return text, buttons
}

// The built-in order bot, routed from one config file to the web page,
// Telegram (a fake Bot API) and Slack (a fake, over Socket Mode), is
// driven to the end on each by its buttons: inline keyboard presses,
// block actions, and mouse clicks on the page in Chromium. One dialog
// definition, no protocol's code in the bot.
func TestOrderBotEverywhere(t *testing.T) {
	tg := telegramtest.New(t)
	sl := fakeslack.New(t, fakeslack.Options{})
	p := startBotserver(t, true, "-config", writeConfig(t, fmt.Sprintf(`
websocket: {addr: "127.0.0.1:0", page_path: /, page_socket: /order/}
telegram: {token: %q, endpoint: %q}
slack: {mode: socket, bot_token: %q, app_token: %q, api_url: %q}
routes:
  websocket:
    paths:
      - {path: /order/, bot: order, middleware: [sessions]}
  telegram: {bot: order, middleware: [sessions]}
  slack: {bot: order, middleware: [sessions]}
`, tg.Token(), tg.Endpoint(), fakeslack.BotToken, fakeslack.AppToken, sl.APIURL)))

	// Telegram: every choice a press of an inline keyboard button, each
	// press answered.
	type step struct {
		question string
		press    string // "" for a question typed to
	}
	steps := []step{{"Which drink?", "latte"}, {"Which size?", "M"}, {"Name for the order?", ""},
		{"M latte for Grace?", "yes"}, {"Ordered: M latte for Grace.", ""}}
	tg.Text(5, 5, "coffee")
	for i, s := range steps {
		text, buttons := tgQuestion(t, tg, i+1)
		if text != s.question {
			t.Fatalf("telegram: the bot sent %q; want %q", text, s.question)
		}
		switch {
		case s.press != "":
			if buttons[s.press] == "" {
				t.Fatalf("telegram: %q has no button %q: %v", text, s.press, buttons)
			}
			answered := len(tg.Calls("answerCallbackQuery"))
			tg.Callback(5, 5, i+1, buttons[s.press])
			if _, err := tg.AwaitCalls("answerCallbackQuery", answered+1, 15*time.Second); err != nil {
				t.Fatalf("telegram: the press of %q was not answered: %v", s.press, err)
			}
		case i == 2:
			tg.Text(5, 5, "Grace")
		}
	}

	// Slack: every choice a block action.
	steps[3].question, steps[4].question = "M latte for Linus?", "Ordered: M latte for Linus."
	sl.PushEvent(sl.Message("C5", "U5", "coffee"))
	for i, s := range steps {
		text, buttons := slackQuestion(t, sl, i+1)
		if text != s.question {
			t.Fatalf("slack: the bot said %q; want %q", text, s.question)
		}
		switch {
		case s.press != "":
			if buttons[s.press] == "" {
				t.Fatalf("slack: %q has no button %q: %v", text, s.press, buttons)
			}
			sl.PushInteraction(sl.BlockAction("C5", "U5", "choice", buttons[s.press], "1700000000.000100"))
		case i == 2:
			sl.PushEvent(sl.Message("C5", "U5", "Linus"))
		}
	}

	// The web page: every choice a mouse click on a button.
	page := browsertest.OpenChatPage(t, "http://"+p.addr+"/")
	page.Type("coffee")
	page.Expect("Which drink?", "latte", "tea", "espresso")
	page.Click("latte")
	page.Expect("Which size?", "S", "M", "L")
	page.Click("M")
	page.Expect("Name for the order?")
	page.Type("Ada")
	page.Expect("M latte for Ada?", "yes", "no")
	page.Click("yes")
	page.Expect("Ordered: M latte for Ada.")
}
