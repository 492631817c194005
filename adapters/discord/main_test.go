package discord_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/adapters/discord"
	"github.com/switchboard-bots/switchboard/adapters/discord/discordtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newAdapter returns an adapter for srv, with cfg's other settings.
func newAdapter(t testing.TB, srv *discordtest.Server, cfg discord.Config, opts ...discord.Option) *discord.Adapter {
	t.Helper()
	cfg.Token = discord.Secret(srv.Token())
	cfg.APIURL = srv.APIURL()
	a, err := discord.New("discord", cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
