package buttons

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/websocket"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/dialog"
	"github.com/switchboard-bots/switchboard/event"
)

// Stale is what a press of a button of an earlier question shows on
// Telegram and says on the web page.
const Stale = "That question was already answered."

// Options returns the dialog options that show choices as buttons and take
// their presses as answers.
func Options() []dialog.Option {
	return []dialog.Option{
		dialog.WithAsk(Ask),
		dialog.WithHandlers(consumer.On(Answer), consumer.On(Telegram), consumer.On(Slack)),
	}
}

// Ask shows question with choices as the protocol of the conversation
// shows buttons, or as numbered lines.
func Ask(ctx context.Context, t *dialog.Turn, question string, choices []string) error {
	s := t.Scope()
	switch s.Type {
	case telegram.Protocol:
		kb := make(telegram.Keyboard, len(choices))
		for i, c := range choices {
			kb[i] = []telegram.Button{{Text: c, Data: t.Token(i)}}
		}
		return t.Send(ctx, telegram.Send{Text: question, Keyboard: kb})
	case slack.Protocol:
		blocks, err := slackBlocks(t, question, choices)
		if err != nil {
			return err
		}
		return t.Send(ctx, slack.Send{Text: dialog.Numbered(question, choices), Blocks: blocks})
	case websocket.TypeWebSocket:
		ask := event.Ask{Text: question, Choices: make([]event.Choice, len(choices))}
		for i, c := range choices {
			ask.Choices[i] = event.Choice{Text: c, Token: t.Token(i)}
		}
		return t.Send(ctx, ask)
	}
	return t.Say(ctx, dialog.Numbered(question, choices))
}

// Answer hands the dialog the choice a button's press stands for: every
// platform's press comes here as an event.Answer, the web page's as the
// WebSocket adapter delivers it, Telegram's and Slack's from the handlers
// below. A press of a button of an earlier question is told so on the web
// page; Telegram tells it in the press's answer.
func Answer(b *dialog.Bot, ctx context.Context, a event.Answer) error {
	ok, err := choose(b, ctx, a)
	if err == nil && !ok && b.Scope().Type == websocket.TypeWebSocket {
		return b.Say(ctx, Stale)
	}
	return err
}

func choose(b *dialog.Bot, ctx context.Context, a event.Answer) (bool, error) {
	return b.Choose(ctx, a.Token)
}

// Telegram handles a press of an inline keyboard button: it hands the
// choice to the dialog as an event.Answer and answers the callback query,
// so that the button stops spinning.
func Telegram(b *dialog.Bot, ctx context.Context, q telegram.CallbackQuery) error {
	ok, err := choose(b, ctx, event.Answer{Token: q.Data})
	note := ""
	if !ok {
		note = Stale
	}
	return joinFirst(err, b.Send(ctx, q.Answer(note, false)))
}

// Slack handles a block action: a press of one of Ask's buttons is the
// answer to the dialog's question, handed on as an event.Answer.
func Slack(b *dialog.Bot, ctx context.Context, in slack.Interaction) error {
	_, err := choose(b, ctx, event.Answer{Token: in.Value})
	return err
}

type textBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type element struct {
	Type     string    `json:"type"`
	Text     textBlock `json:"text"`
	Value    string    `json:"value"`
	ActionID string    `json:"action_id"`
}

func slackBlocks(t *dialog.Turn, question string, choices []string) (json.RawMessage, error) {
	els := make([]element, len(choices))
	for i, c := range choices {
		els[i] = element{Type: "button", Text: textBlock{Type: "plain_text", Text: c}, Value: t.Token(i), ActionID: "choice_" + strconv.Itoa(i)}
	}
	return json.Marshal([]any{
		map[string]any{"type": "section", "text": textBlock{Type: "mrkdwn", Text: question}},
		map[string]any{"type": "actions", "elements": els},
	})
}

func joinFirst(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
