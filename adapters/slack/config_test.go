package slack_test

import (
	"errors"
	"strings"
	"testing"
	"time"

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
		"ack past Slack's limit": {BotToken: "xoxb-1", AppToken: "xapp-1", AckTimeout: 3 * time.Second},
		"negative burst":         {BotToken: "xoxb-1", AppToken: "xapp-1", PostBurst: -1},
		"negative inbox":         {BotToken: "xoxb-1", AppToken: "xapp-1", Scopes: scopeConfig(-1)},
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
