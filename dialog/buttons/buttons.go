package buttons

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/dialog"
)

// Stale is what a press of a button of an earlier question shows on
// Telegram.
const Stale = "That question was already answered."

// Options returns the dialog options that show choices as buttons and take
// their presses as answers.
func Options() []dialog.Option {
	return []dialog.Option{
		dialog.WithAsk(Ask),
		dialog.WithHandlers(consumer.On(Telegram), consumer.On(Slack)),
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
	}
	return t.Say(ctx, dialog.Numbered(question, choices))
}

// Telegram handles a press of an inline keyboard button: it answers the
// callback query, so that the button stops spinning, and hands the choice
// to the dialog.
func Telegram(b *dialog.Bot, ctx context.Context, q telegram.CallbackQuery) error {
	ok, err := b.Choose(ctx, q.Data)
	note := ""
	if !ok {
		note = Stale
	}
	return joinFirst(err, b.Send(ctx, q.Answer(note, false)))
}

// Slack handles a block action: a press of one of Ask's buttons is the
// answer to the dialog's question.
func Slack(b *dialog.Bot, ctx context.Context, in slack.Interaction) error {
	_, err := b.Choose(ctx, in.Value)
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
