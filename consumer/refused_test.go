package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// refusingConn refuses every send, as a platform refuses a user who
// blocked the bot.
type refusingConn struct{ sent int }

func (c *refusingConn) Send(context.Context, event.Event) error {
	c.sent++
	return fmt.Errorf("sendMessage: 403 Forbidden: bot was blocked by the user: %w", event.ErrRefused)
}
func (c *refusingConn) Post(context.Context, event.Event) error { return nil }

// counter numbers its messages and answers each.
type counter struct {
	consumer.Chat
	n int
}

func (c *counter) Message(ctx context.Context, m event.ChatMessage) error {
	c.n++
	return c.Reply(ctx, fmt.Sprintf("#%d", c.n))
}

// A handler that returns a refused send does not end its conversation:
// the same instance, with its state, takes the next message.
func TestARefusedSendDoesNotEndTheConversation(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	app := consumer.WithLogger(log)(consumer.New(func() *counter { return new(counter) }, consumer.OnMessage((*counter).Message)))
	conn := &refusingConn{}
	inst, err := app.NewInstance(context.Background(), &scope.Scope{Type: consumertest.ChatProtocol, Key: "k"}, conn)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := inst.Handle(context.Background(), consumertest.Message{ID: i + 1, Text: "hi"}); err != nil {
			t.Fatalf("Handle returned %v: a refusal would end the conversation", err)
		}
	}
	if c := inst.(*counter); c.n != 2 || conn.sent != 2 {
		t.Fatalf("the instance handled %d messages and sent %d, want 2 and 2", c.n, conn.sent)
	}
	if !strings.Contains(logs.String(), "refused a send") || !strings.Contains(logs.String(), "blocked by the user") {
		t.Fatalf("the refusal is not logged with its cause:\n%s", logs.String())
	}
	// Any other failure still ends it.
	if err := inst.Handle(context.Background(), event.Message{"type": "test.unknown"}); !errors.As(err, new(*consumer.UnknownEventError)) {
		t.Fatalf("an unknown event: %v", err)
	}
}
