package discord_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/adaptertest"
	"github.com/switchboard-bots/switchboard/adapters/discord"
	"github.com/switchboard-bots/switchboard/adapters/discord/discordtest"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// platform is the kit's view of the fake Discord: conversation "a" is the
// guild channel 3000000000000000000+'a'. It says, pushes, refuses (50013
// Missing Permissions) and drops the Gateway. It is no AckPlatform:
// Discord has no acknowledgement of Gateway events (see the package doc).
type platform struct {
	srv *discordtest.Server
	mu  sync.Mutex
	n   int // posted messages already returned by Reply
}

var (
	_ adaptertest.SayPlatform     = (*platform)(nil)
	_ adaptertest.PushPlatform    = (*platform)(nil)
	_ adaptertest.AddressPlatform = (*platform)(nil)
	_ adaptertest.RefusePlatform  = (*platform)(nil)
	_ adaptertest.DropPlatform    = (*platform)(nil)
)

const guild = "4000000000000000000"

// channelOf returns the channel of a conversation, and convOf the
// conversation of a channel.
func channelOf(conv string) string { return fmt.Sprintf("3000000000000000%03d", conv[0]) }

func convOf(channel string) string {
	n, _ := strconv.Atoi(channel[len(channel)-3:])
	return string(rune(n))
}

func (p *platform) Say(t testing.TB, conv, text string) {
	p.srv.Say(discordtest.Message{ChannelID: channelOf(conv), GuildID: guild, Content: text})
}

func (p *platform) Reply(t testing.TB) (string, string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	posted := p.srv.AwaitPosted(t, p.n+1)
	m := posted[p.n]
	p.n++
	return convOf(m.ChannelID), m.Content
}

// SayBad dispatches a MESSAGE_CREATE whose data is not a message, and one
// without an author: the adapter skips both and reads on.
func (p *platform) SayBad(t testing.TB) {
	p.srv.Dispatch("MESSAGE_CREATE", "not a message object")
	p.srv.Dispatch("MESSAGE_CREATE", map[string]any{"id": "1", "channel_id": channelOf("a"), "content": "no author"})
}

func (p *platform) SaysChat() {}

func (p *platform) PushEvent(conv, text string) event.Event {
	return discord.Send{ChannelID: channelOf(conv), Content: text}
}

func (p *platform) Address(conv string) string { return channelOf(conv) }

func (p *platform) Refuse(_ testing.TB, conv string) {
	p.srv.Refuse(channelOf(conv), discord.CodeMissingPermissions)
}

func (p *platform) Drop(testing.TB) { p.srv.Drop() }

func harness(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
	// The kit's checks send a hundred messages in a few seconds: the
	// rate limits are tested on their own.
	srv := discordtest.New(t, discordtest.WithLimits(discordtest.Limits{Route: 1000, Global: 1000}))
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	a := newAdapter(t, srv, discord.Config{})
	return adapters.NewHost(a, adapters.WithScopes(cfg)), &platform{srv: srv}
}

func TestConformance(t *testing.T) { adaptertest.Run(t, harness) }
