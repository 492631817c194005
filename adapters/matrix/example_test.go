package matrix_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/matrix"
	"github.com/switchboard-bots/switchboard/adapters/matrix/matrixtest"
	"github.com/switchboard-bots/switchboard/bots/echo"
)

// The echo bot on Matrix, tested against the fake homeserver.
func Example() {
	srv := matrixtest.NewServer()
	defer srv.Close()
	srv.Joined("!room:example.org")

	log := slog.New(slog.DiscardHandler)
	a, err := matrix.New("matrix", matrix.Config{
		Homeserver:  srv.URL(), // "https://matrix.example.org" in production
		AccessToken: matrix.Secret(srv.Token()),
	}, matrix.WithLogger(log), matrix.WithStore(&matrix.MemoryStore{})) // a FileStore, or Config.Store, in production
	if err != nil {
		fmt.Println(err)
		return
	}
	h := adapters.NewHost(a, adapters.WithLogger(log))
	done := make(chan error, 1)
	go func() { done <- h.Run(context.Background(), echo.New()) }()
	<-h.Ready() // the first sync is made: what is said now is new

	srv.Say("!room:example.org", "@ada:example.org", "hello")
	sent, err := srv.AwaitSent(1, 10*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sent[0].Room, sent[0].Body())

	_ = h.Shutdown(context.Background())
	fmt.Println(<-done)
	// Output:
	// !room:example.org You said: hello
	// adapters: adapter stopped
}

// A worker posts to a room without a scope.
func ExampleAdapter_Push() {
	srv := matrixtest.NewServer()
	defer srv.Close()
	srv.Joined("!room:example.org")
	a, _ := matrix.New("matrix", matrix.Config{Homeserver: srv.URL(), AccessToken: matrix.Secret(srv.Token())})
	err := a.Push(context.Background(), matrix.Send{RoomID: "!room:example.org", Text: "Your report is ready", Notice: true})
	sent := srv.Sent()
	fmt.Println(err, sent[0].Content["msgtype"], sent[0].Body())
	// Output:
	// <nil> m.notice Your report is ready
}
