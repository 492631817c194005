package telegram_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/telegram"
	"github.com/switchboard-bots/switchboard/adapters/telegram/telegramtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/scope"
)

// The echo bot on Telegram, tested against the fake Bot API.
func Example() {
	srv := telegramtest.NewServer()
	defer srv.Close()

	a, err := telegram.New(telegram.Config{
		Token:    telegram.Secret(srv.Token()),
		Endpoint: srv.Endpoint(), // "https://api.telegram.org/bot%s/%s" in production
	}, telegram.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	log := slog.New(slog.DiscardHandler)
	h := adapters.NewHost(a, adapters.WithLogger(log), adapters.WithScopes(scope.Config{IdleTimeout: time.Hour}))
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), echo.New()) }()

	srv.Text(42, 42, "hello")
	calls, err := srv.AwaitCalls("sendMessage", 1, 10*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(calls[0].Params.Get("chat_id"), calls[0].Params.Get("text"))

	_ = h.Shutdown(context.Background())
	fmt.Println(<-done)
	// Output:
	// 42 You said: hello
	// adapters: adapter stopped
}

// A worker sends to a chat without a scope.
func ExampleAdapter_Push() {
	srv := telegramtest.NewServer()
	defer srv.Close()
	a, _ := telegram.New(telegram.Config{Token: telegram.Secret(srv.Token()), Endpoint: srv.Endpoint()})
	err := a.Push(context.Background(), telegram.Send{ChatID: 42, Text: "Your report is ready",
		Keyboard: telegram.Keyboard{{{Text: "Open", Data: "open:7"}}}})
	fmt.Println(err, srv.Texts(42))
	// Output:
	// <nil> [Your report is ready]
}
