package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/switchboard-bots/switchboard/builtin"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/scope"
	"github.com/switchboard-bots/switchboard/server"
)

// Shout is a bot of the program's own.
type Shout struct{ consumer.Chat }

// Message answers in capitals.
func (s *Shout) Message(ctx context.Context, m consumer.ChatMessage) error {
	return s.Reply(ctx, strings.ToUpper(m.ChatText()))
}

// A program registers its own bots beside the built-in ones and routes to
// them by name; server.Main(reg, version) gives it botserver's whole
// command line. Here the server runs once, on the console adapter, until
// its input ends.
func Example() {
	reg := builtin.Registry()
	reg.Register("shout", func(server.Deps) (scope.Application, error) {
		return consumer.New(func() *Shout { return new(Shout) }, consumer.OnMessage((*Shout).Message)), nil
	})

	cfg, err := server.Parse("example.yaml", []byte(`
console: {}
routes:
  console:
    commands:
      - {command: /echo, bot: echo}
    fallback: {bot: shout}
`), nil)
	if err != nil {
		panic(err)
	}
	s, err := server.New(cfg, reg,
		server.WithStdio(strings.NewReader("hello there\n/echo quietly\n"), os.Stdout),
		server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Run(context.Background()))
	// Output:
	// [console] HELLO THERE
	// [console] You said: /echo quietly
	// <nil>
}
