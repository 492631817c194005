package report

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/event"
)

// Jobs is the channel the worker serves.
const Jobs = "report.jobs"

// Job asks the worker for a report: "report.job".
type Job struct {
	Topic   string `msgpack:"topic"`
	ReplyTo string `msgpack:"reply_to"` // the asking instance's channel
}

func (Job) Type() string { return "report.job" }

// Result is the worker's answer: "report.result".
type Result struct {
	Topic string `msgpack:"topic"`
	Text  string `msgpack:"text"`
}

func (Result) Type() string { return "report.result" }

// Bot is the chat side: one instance per conversation.
type Bot struct{ consumer.Chat }

// Message hands "/report <topic>" to the worker; anything else gets the
// usage.
func (b *Bot) Message(ctx context.Context, m event.ChatMessage) error {
	topic, ok := strings.CutPrefix(strings.TrimSpace(m.ChatText()), "/report")
	topic = strings.TrimSpace(topic)
	if !ok || topic == "" {
		return b.Reply(ctx, "Ask me for /report <topic>.")
	}
	me, err := b.ChannelName(ctx)
	if err != nil {
		return err
	}
	if err := b.SendTo(ctx, Jobs, Job{Topic: topic, ReplyTo: me}); err != nil {
		return b.Reply(ctx, "The report desk is busy, try again later.")
	}
	return b.Reply(ctx, "Working on a report on "+topic+"...")
}

// Result passes the worker's answer on to the conversation. It answers no
// message: the request was handled long ago, so it says the result, which
// names its topic.
func (b *Bot) Result(ctx context.Context, r Result) error {
	return b.Say(ctx, r.Text)
}

// New returns the chat side.
func New() *consumer.App[*Bot] {
	return consumer.New(func() *Bot { return new(Bot) },
		consumer.OnMessage((*Bot).Message), consumer.On((*Bot).Result))
}

// Worker is the worker side: it serves the Jobs channel.
type Worker struct {
	consumer.Base
	done int
}

// Job writes the report (here: a line about the topic) and sends it back.
func (w *Worker) Job(ctx context.Context, j Job) error {
	w.done++
	text := fmt.Sprintf("Report #%d on %s: %d letters, all in order.", w.done, j.Topic, len(strings.ReplaceAll(j.Topic, " ", "")))
	return w.SendTo(ctx, j.ReplyTo, Result{Topic: j.Topic, Text: text})
}

// NewWorker returns the worker side.
func NewWorker() *consumer.App[*Worker] {
	return consumer.New(func() *Worker { return new(Worker) }, consumer.On((*Worker).Job))
}
