package playground_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/internal/browsertest"
	"github.com/switchboard-bots/switchboard/internal/logtest"
	"github.com/switchboard-bots/switchboard/internal/porttest"
	"github.com/switchboard-bots/switchboard/playground"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/server"
)

// sizes asks for a size with buttons on Telegram and Slack, and confirms
// the choice by editing its question and reacting.
type sizes struct{ consumer.Base }

func (b *sizes) Telegram(ctx context.Context, m telegram.Message) error {
	return b.Send(ctx, telegram.Send{Text: "<b>Which size?</b> you said <i>" + m.Text + "</i>", ParseMode: "HTML",
		Keyboard: telegram.Keyboard{{{Text: "Small", Data: "S"}, {Text: "Medium", Data: "M"}}}})
}

func (b *sizes) Pressed(ctx context.Context, q telegram.CallbackQuery) error {
	if err := b.Send(ctx, telegram.AnswerCallback{CallbackQueryID: q.ID, Text: "Noted"}); err != nil {
		return err
	}
	return b.Send(ctx, telegram.Edit{MessageID: q.MessageID, Text: "You picked " + q.Data})
}

func (b *sizes) Slack(ctx context.Context, m slack.Message) error {
	blocks, _ := json.Marshal([]any{
		map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*Which size?* you said " + m.Text}},
		map[string]any{"type": "actions", "elements": []any{
			map[string]any{"type": "button", "action_id": "size", "value": "S", "text": map[string]any{"type": "plain_text", "text": "Small"}},
			map[string]any{"type": "button", "action_id": "size", "value": "M", "text": map[string]any{"type": "plain_text", "text": "Medium"}},
		}},
	})
	return b.Send(ctx, slack.Send{Text: "Which size?", Blocks: blocks})
}

func (b *sizes) Clicked(ctx context.Context, i slack.Interaction) error {
	if err := b.Send(ctx, slack.Update{TS: i.MessageTS, Text: "You picked " + i.Value}); err != nil {
		return err
	}
	return b.Send(ctx, slack.React{TS: i.MessageTS, Name: "thumbsup"})
}

// The playground in a real browser: a developer types to a bot on
// Telegram and Slack, sees its formatted answers with their buttons,
// presses them, and sees the edit, the callback's answer and the
// reaction; the web chat page is there beside them.
// seen is what the playground's API says both panes hold: whether a step
// that waits for the bot failed in the page or before it.
func seen(addr string) string {
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://" + addr + "/api/state")
	if err != nil {
		return "the playground's state: " + err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return "the playground's state: " + string(b)
}

func TestPlaygroundInChromium(t *testing.T) {
	b := browsertest.Start(t, 60*time.Second)
	reg := builtin.Registry()
	reg.Register("sizes", func(server.Deps) (scope.Application, error) {
		return consumer.New(func() *sizes { return new(sizes) }, consumer.On((*sizes).Telegram), consumer.On((*sizes).Pressed),
			consumer.On((*sizes).Slack), consumer.On((*sizes).Clicked)), nil
	})
	web := porttest.Addr(t)
	cfg := filepath.Join(t.TempDir(), "bot.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`websocket: {addr: %q, page_path: /, page_socket: /ws/chat/}
telegram: {token: "${TELEGRAM_TOKEN}"}
slack: {mode: http, bot_token: "${SLACK_BOT_TOKEN}", signing_secret: "${SLACK_SIGNING_SECRET}"}
routes:
  websocket:
    paths: [{path: /ws/chat/, bot: wschat}]
  telegram: {bot: sizes}
  slack: {bot: sizes}
`, web)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out logtest.Buffer
	ready := make(chan string, 1)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- playground.Command{Registry: reg, Stdout: &out, Stderr: &out, Ready: func(a string) { ready <- a }}.
			Run(ctx, []string{"-config", cfg, "-addr", "127.0.0.1:0"})
	}()
	t.Cleanup(func() {
		stop()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("the playground exited %d:\n%s", code, out.String())
			}
		case <-time.After(20 * time.Second):
			t.Errorf("the playground did not stop:\n%s", out.String())
		}
	})
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("the playground exited %d:\n%s", code, out.String())
	}
	out.Await(t, "listening on "+web, 20*time.Second)

	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate("http://" + addr + "/"),
		// Telegram: a message, a formatted answer with an inline keyboard.
		browsertest.Type(`#tg-text`, "hello"),
		chromedp.Click(chromedp.CSS(`#tg-send`)),
		chromedp.WaitVisible(chromedp.CSS(`#tg-log .bot b`)),
		// Slack: a message, Block Kit with buttons.
		browsertest.Type(`#sl-text`, "hi there"),
		chromedp.Click(chromedp.CSS(`#sl-send`)),
		chromedp.WaitVisible(chromedp.CSS(`#sl-log .bot b`)),
		chromedp.WaitVisible(chromedp.CSS(`#web-frame`)),
	}
	for i, step := range steps {
		if err := chromedp.Do(b, step); err != nil {
			t.Fatalf("in the browser, step %d of %d: %v\n%s\n%s", i+1, len(steps), err, out.String(), seen(addr))
		}
	}
	browsertest.Screenshot(t, b, "playground-buttons.png")
	// The presses: Telegram's edit and callback answer, Slack's update
	// and reaction.
	steps = []chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS(`#tg-log .bot button.press:nth-of-type(2)`)),
		chromedp.WaitVisible(chromedp.CSS(`#tg-log .edited`)),
		chromedp.Click(chromedp.CSS(`#sl-log .bot button.press`)),
		chromedp.WaitVisible(chromedp.CSS(`#sl-log .reactions span`)),
	}
	for i, step := range steps {
		if err := chromedp.Do(b, step); err != nil {
			t.Fatalf("in the browser, step %d of %d: %v\n%s\n%s", i+1, len(steps), err, out.String(), seen(addr))
		}
	}
	tg, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`#tg-log`)))
	if err != nil {
		t.Fatal(err)
	}
	sl, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`#sl-log`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hello", "You picked M", "edited", "answer: Noted"} {
		if !strings.Contains(tg, want) {
			t.Errorf("the Telegram pane does not show %q:\n%s", want, tg)
		}
	}
	for _, want := range []string{"hi there", "You picked S", "(edited)", ":thumbsup:"} {
		if !strings.Contains(sl, want) {
			t.Errorf("the Slack pane does not show %q:\n%s", want, sl)
		}
	}
	browsertest.Screenshot(t, b, "playground-pressed.png")
}
