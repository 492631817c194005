package discord_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/discord"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  discord.Config
		want string // "" for valid
	}{
		{discord.Config{Token: "a.b.c"}, ""},
		{discord.Config{Token: "Bot a.b.c", Shard: discord.Shard{ID: 3, Count: 4}, Intents: []string{"guilds"}}, ""},
		{discord.Config{}, "token is required"},
		{discord.Config{Token: "a b"}, "token is required"},
		{discord.Config{Token: "a", Intents: []string{"guild_messages", "everything"}}, `unknown intent "everything"`},
		{discord.Config{Token: "a", Shard: discord.Shard{ID: 2, Count: 2}}, "shard"},
		{discord.Config{Token: "a", Shard: discord.Shard{ID: -1}}, "shard"},
		{discord.Config{Token: "a", APIURL: "discord.com/api"}, "api_url"},
	} {
		err := tc.cfg.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.cfg, err)
			}
			continue
		}
		if !errors.Is(err, discord.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want ErrConfig saying %q", tc.cfg, err, tc.want)
		}
	}
}
