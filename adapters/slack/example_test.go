package slack_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/slack"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/scope"
)

// An echo bot over Socket Mode: no public endpoint, only the two tokens.
// A Host runs the adapter: its conversations, lifecycle and readiness.
func ExampleNew() {
	a, err := slack.New(slack.Config{
		BotToken: os.Getenv("SLACK_BOT_TOKEN"), // xoxb-...
		AppToken: os.Getenv("SLACK_APP_TOKEN"), // xapp-...
		Threads:  true,                         // each thread is its own conversation
	})
	if err != nil {
		log.Fatal(err)
	}
	h := adapters.NewHost(a, adapters.WithScopes(scope.Config{IdleTimeout: 10 * time.Minute}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Shutdown(sctx)
	}()
	if err := h.Run(context.Background(), echo.New()); !errors.Is(err, adapters.ErrStopped) {
		log.Fatal(err)
	}
}

// Validate checks a configuration without touching the network.
func ExampleConfig_Validate() {
	err := slack.Config{Mode: slack.ModeHTTP, BotToken: "xoxb-1"}.Validate()
	fmt.Println(err)
	fmt.Println(errors.Is(err, slack.ErrConfig))
	// Output:
	// slack: invalid config: signing_secret is required in http mode
	// true
}

// A slash command reads as the command line it was typed as, so the
// command router serves it, and a chat reply goes to its response_url.
func ExampleCommand_ChatReply() {
	cmd := slack.Command{Command: "/deploy", Text: "prod", ResponseURL: "https://hooks.slack.com/commands/1"}
	fmt.Println(cmd.ChatText())
	r := cmd.ChatReply("deploying").(slack.Respond)
	fmt.Println(r.Type(), r.ResponseURL, r.Text)
	// Output:
	// /deploy prod
	// slack.respond https://hooks.slack.com/commands/1 deploying
}

// A message's reply stays in its thread.
func ExampleMessage_ChatReply() {
	m := slack.Message{Channel: "C1", ThreadTS: "1700000000.000100", Text: "hi"}
	s := m.ChatReply("hello").(slack.Send)
	fmt.Println(s.Type(), s.Channel, s.Thread, s.Text)
	// Output: slack.send C1 1700000000.000100 hello
}
