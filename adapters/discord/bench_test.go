package discord_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/discord"
	"github.com/switchboard-bots/switchboard/adapters/discord/discordtest"
	"github.com/switchboard-bots/switchboard/consumer"
	"github.com/switchboard-bots/switchboard/scope"
)

// counter counts the messages its instances handle.
type counter struct {
	consumer.Chat
	n chan<- struct{}
}

func (c *counter) message(context.Context, consumer.ChatMessage) error {
	c.n <- struct{}{}
	return nil
}

// BenchmarkInbound: MESSAGE_CREATEs from the fake's Gateway, in 16
// channels, to their handlers.
func BenchmarkInbound(b *testing.B) {
	srv := discordtest.New(b)
	done := make(chan struct{}, 1024)
	app := consumer.New(func() *counter { return &counter{n: done} }, consumer.OnMessage((*counter).message))
	a, err := discord.New("discord", discord.Config{Token: discord.Secret(srv.Token()), APIURL: srv.APIURL()})
	if err != nil {
		b.Fatal(err)
	}
	h := adapters.NewHost(a, adapters.WithScopes(scope.Config{IdleTimeout: -1}), adapters.WithLogger(discardLog()))
	ran := make(chan error, 1)
	go func() { ran <- h.Run(context.Background(), app) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		<-ran
	}()
	<-h.Ready()
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for i := range b.N {
			srv.Say(discordtest.Message{ChannelID: fmt.Sprint(3000000000000000000 + i%16), Content: "hi"})
		}
	}()
	for range b.N {
		<-done
	}
}
