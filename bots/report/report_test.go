package report_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/bots/report"
	"github.com/switchboard-bots/switchboard/consumer/consumertest"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/memory"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAReportComesBackToTheConversation(t *testing.T) {
	l, err := memory.New(layer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	worker := consumertest.New(t, report.NewWorker(), &scope.Scope{Type: "channel", Channel: report.Jobs}, consumertest.WithLayer(l))
	chat := consumertest.NewChat(t, report.New(), consumertest.WithLayer(l))

	chat.Say("hello")
	if got := chat.ReceiveReply(); got.Text != "Ask me for /report <topic>." {
		t.Fatalf("usage: %+v", got)
	}
	chat.Say("/report sales")
	if got := chat.ReceiveReply(); got != (consumertest.Reply{To: 2, Text: "Working on a report on sales..."}) {
		t.Fatalf("ack: %+v", got)
	}
	// The worker serves the job it finds on its channel, as a worker
	// scope started by the first message would.
	ev, err := l.Receive(t.Context(), report.Jobs)
	if err != nil {
		t.Fatal(err)
	}
	worker.Send(ev)
	// The result is said in the conversation: the request was answered
	// already.
	if got := chat.ReceiveSay(); got != "Report #1 on sales: 5 letters, all in order." {
		t.Fatalf("result: %q", got)
	}
}
