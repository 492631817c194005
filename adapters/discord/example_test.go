package discord_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/discord"
	"github.com/switchboard-bots/switchboard/bots/echo"
)

// A bot on Discord: the adapter, on a Host, serving the echo bot. Every
// chat bot serves Discord unchanged.
func Example() {
	a, err := discord.New("discord", discord.Config{
		Token: discord.Secret(os.Getenv("DISCORD_TOKEN")),
		// The default intents, spelled out: message_content is
		// privileged, and must be enabled for the bot in the Developer
		// Portal.
		Intents: []string{"guilds", "guild_messages", "direct_messages", "message_content"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := adapters.NewHost(a)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = h.Run(ctx, echo.New())
}

// A worker, a cron job or another process sends to any channel through
// the layer channel push.discord, without a conversation; Push does the
// same in process.
func ExampleAdapter_Push() {
	a, err := discord.New("discord", discord.Config{Token: "token"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(adapters.PushChannel(a.Name()))
	ev := discord.Send{ChannelID: "1100000000000000000", Content: "deploy finished"}
	fmt.Println(ev.Type(), ev.ChannelID)
	// Output:
	// push.discord
	// discord.send 1100000000000000000
}
