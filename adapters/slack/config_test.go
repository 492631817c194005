package slack_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/slack"
)

func TestConfigValidate(t *testing.T) {
	ok := slack.Config{BotToken: "xoxb-1", AppToken: "xapp-1"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("minimal socket config: %v", err)
	}
	if err := (slack.Config{Mode: slack.ModeHTTP, BotToken: "xoxb-1", SigningSecret: "s"}).Validate(); err != nil {
		t.Fatalf("minimal http config: %v", err)
	}
	for name, c := range map[string]slack.Config{
		"no bot token":           {AppToken: "xapp-1"},
		"no app token":           {BotToken: "xoxb-1"},
		"bot token as app token": {BotToken: "xoxb-1", AppToken: "xoxb-1"},
		"http without secret":    {Mode: slack.ModeHTTP, BotToken: "xoxb-1"},
		"unknown mode":           {Mode: "carrier-pigeon", BotToken: "xoxb-1"},
		"ack past Slack's limit": {BotToken: "xoxb-1", AppToken: "xapp-1", AckDeadline: 3 * time.Second},
		"negative burst":         {BotToken: "xoxb-1", AppToken: "xapp-1", PostBurst: -1},
		"negative deadline":      {BotToken: "xoxb-1", AppToken: "xapp-1", AckDeadline: -time.Second},
	} {
		err := c.Validate()
		if !errors.Is(err, slack.ErrConfig) {
			t.Errorf("%s: Validate = %v, want ErrConfig", name, err)
		}
		if err != nil && (strings.Contains(err.Error(), "xoxb-1") || strings.Contains(err.Error(), "xapp-1")) {
			t.Errorf("%s: the error shows a token: %v", name, err)
		}
	}
	if _, err := slack.New(slack.Config{}); !errors.Is(err, slack.ErrConfig) {
		t.Errorf("New with an empty config: %v", err)
	}
}

// decoder stands in for a server's strict YAML decoding of a section.
func decoder(c slack.Config) func(any) error {
	return func(v any) error {
		*v.(*slack.Config) = c
		return nil
	}
}

func TestFactory(t *testing.T) {
	a, err := slack.Factory(adapters.Setup{Name: "team-a", Logger: slog.Default(),
		Decode: decoder(slack.Config{BotToken: "xoxb-1", AppToken: "xapp-1"})})
	if err != nil || a.Name() != "team-a" {
		t.Fatalf("Factory: %v, %v", a, err)
	}
	a, err = slack.Factory(adapters.Setup{Name: "team-a",
		Decode: decoder(slack.Config{Name: "own", Mode: slack.ModeHTTP, BotToken: "xoxb-1", SigningSecret: "s", Listen: ":0"})})
	if err != nil || a.Name() != "own" {
		t.Fatalf("Factory with a name of its own: %v, %v", a, err)
	}
	// A server has nowhere to mount Handler: http mode needs listen.
	_, err = slack.Factory(adapters.Setup{Name: "slack",
		Decode: decoder(slack.Config{Mode: slack.ModeHTTP, BotToken: "xoxb-1", SigningSecret: "s"})})
	if !errors.Is(err, slack.ErrConfig) || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("Factory in http mode without listen: %v", err)
	}
	bad := errors.New("config.yaml:7: slack.bot_tokn: unknown key")
	if _, err := slack.Factory(adapters.Setup{Decode: func(any) error { return bad }}); !errors.Is(err, bad) {
		t.Fatalf("Factory with a decoding error: %v", err)
	}
	if _, err := slack.Factory(adapters.Setup{Decode: decoder(slack.Config{})}); !errors.Is(err, slack.ErrConfig) {
		t.Fatalf("Factory with no tokens: %v", err)
	}
}
