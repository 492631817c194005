package discord

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/switchboard-bots/switchboard/adapters"
)

// ErrConfig is wrapped by every error of Config.Validate.
var ErrConfig = errors.New("discord: bad config")

// Secret is a string that never prints: the bot token stays hidden in a
// Config that gets logged or formatted.
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return `"[redacted]"` }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Config is the adapter's section of the config file.
type Config struct {
	// Token is the bot's token, from the Developer Portal; a "Bot "
	// prefix is accepted and dropped.
	Token Secret `yaml:"token"`
	// Intents are the Gateway intents the bot asks for, by Discord's
	// names in lower case: guilds, guild_members, guild_moderation,
	// guild_emojis, guild_integrations, guild_webhooks, guild_invites,
	// guild_voice_states, guild_presences, guild_messages,
	// guild_message_reactions, guild_message_typing, direct_messages,
	// direct_message_reactions, direct_message_typing, message_content,
	// guild_scheduled_events, auto_moderation_execution. Default: guilds,
	// guild_messages, direct_messages and message_content. message_content is privileged: enable it for the
	// bot in the Developer Portal, or guild messages arrive without text.
	Intents []string `yaml:"intents"`
	// Shard is this process's shard of a bot too large for one Gateway
	// connection. Default: shard 0 of 1.
	Shard Shard `yaml:"shard"`
	// AnswerBots delivers messages of other bots and webhooks too; the
	// bot's own messages are never delivered. Default false.
	AnswerBots bool `yaml:"answer_bots"`
	// APIURL is the base of the REST API. Default
	// "https://discord.com/api/v10/"; tests point it at a fake.
	APIURL string `yaml:"api_url"`
	// GlobalRate bounds the bot's REST requests per second across every
	// route, below Discord's global limit of 50. Default 45; negative: no
	// bound but Discord's 429s.
	GlobalRate float64 `yaml:"global_rate"`
	// Retries is how many times a call is made again after a 429, a 5xx
	// or a network error. Default 3; negative: never.
	Retries int `yaml:"retries"`
}

// Shard names one shard of a bot: Discord sends the events of guild g to
// shard (g >> 22) % Count, and direct messages to shard 0.
type Shard struct {
	ID    int `yaml:"id"`
	Count int `yaml:"count"`
}

// DefaultAPIURL is the base of Discord's REST API, version 10.
const DefaultAPIURL = "https://discord.com/api/v10/"

// intentNames maps the names Config.Intents takes to Discord's intents.
var intentNames = map[string]discordgo.Intent{
	"guilds":                    discordgo.IntentGuilds,
	"guild_members":             discordgo.IntentGuildMembers,
	"guild_moderation":          discordgo.IntentGuildModeration,
	"guild_emojis":              discordgo.IntentGuildEmojis,
	"guild_integrations":        discordgo.IntentGuildIntegrations,
	"guild_webhooks":            discordgo.IntentGuildWebhooks,
	"guild_invites":             discordgo.IntentGuildInvites,
	"guild_voice_states":        discordgo.IntentGuildVoiceStates,
	"guild_presences":           discordgo.IntentGuildPresences,
	"guild_messages":            discordgo.IntentGuildMessages,
	"guild_message_reactions":   discordgo.IntentGuildMessageReactions,
	"guild_message_typing":      discordgo.IntentGuildMessageTyping,
	"direct_messages":           discordgo.IntentDirectMessages,
	"direct_message_reactions":  discordgo.IntentDirectMessageReactions,
	"direct_message_typing":     discordgo.IntentDirectMessageTyping,
	"message_content":           discordgo.IntentMessageContent,
	"guild_scheduled_events":    discordgo.IntentGuildScheduledEvents,
	"auto_moderation_execution": discordgo.IntentAutoModerationExecution,
}

var defaultIntents = []string{"guilds", "guild_messages", "direct_messages", "message_content"}

// Validate checks c without touching the network.
func (c Config) Validate() error {
	var errs []error
	tok := strings.TrimPrefix(string(c.Token), "Bot ")
	if tok == "" || strings.ContainsAny(tok, " \r\n") {
		errs = append(errs, errors.New("token is required: the bot's token from the Developer Portal"))
	}
	for _, n := range c.Intents {
		if _, ok := intentNames[n]; !ok {
			errs = append(errs, fmt.Errorf("intents: unknown intent %q", n))
		}
	}
	if c.Shard.Count < 0 || c.Shard.ID < 0 || (c.Shard.ID > 0 && c.Shard.ID >= c.Shard.Count) {
		errs = append(errs, fmt.Errorf("shard: id must be at least 0 and below count, got id %d of %d", c.Shard.ID, c.Shard.Count))
	}
	if c.APIURL != "" {
		u, err := url.Parse(c.APIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("api_url must be an http(s) URL, got %q", c.APIURL))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return nil
}

// withDefaults returns c with its defaults filled in.
func (c Config) withDefaults() Config {
	c.Token = Secret(strings.TrimPrefix(string(c.Token), "Bot "))
	if len(c.Intents) == 0 {
		c.Intents = defaultIntents
	}
	if c.Shard.Count == 0 {
		c.Shard.Count = 1
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/"
	}
	if c.GlobalRate == 0 {
		c.GlobalRate = 45
	}
	if c.Retries == 0 {
		c.Retries = 3
	}
	c.Retries = max(c.Retries, 0)
	return c
}

// intents returns the bit set of c's intents.
func (c Config) intents() discordgo.Intent {
	var i discordgo.Intent
	for _, n := range slices.Compact(slices.Sorted(slices.Values(c.Intents))) {
		i |= intentNames[n]
	}
	return i
}

// Factory builds an adapter from its section of the config file.
func Factory(s adapters.Setup) (adapters.Adapter, error) {
	return adapters.FactoryFor(func(name string, cfg Config) (*Adapter, error) { return New(name, cfg) })(s)
}
