package irc

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/throttle"
)

// Config is the adapter's section of the config file.
type Config struct {
	// Endpoint is the server's host:port, and with TLS a CA file to trust.
	adapters.Endpoint `yaml:",inline"`
	// TLS connects with TLS, trusting the system's roots and CAFile.
	TLS bool `yaml:"tls"`
	// Nick is the bot's nickname. While it is taken the bot registers as
	// Nick_0, Nick_1..., and asks for Nick again every few minutes.
	Nick string `yaml:"nick"`
	// Password is the server password (PASS), if the server has one.
	Password string `yaml:"password"`
	// SASL logs in to an account with SASL PLAIN before registration.
	SASL *SASL `yaml:"sasl"`
	// Channels are joined on every connection: "#chan", or "#chan key".
	Channels []string `yaml:"channels"`
	// KeyBy is what a channel's conversation is: "channel" (default), one
	// scope for the channel, or "channel_user", one per user in it.
	// Private messages are one conversation per nick either way.
	KeyBy string `yaml:"key_by"`
	// Flood paces the bot's messages. Default: 5 lines at once, then one
	// per 2 s, the flood control of RFC 1459 section 8.10 that servers
	// still apply: a bot that sends faster is held back, then
	// disconnected for "Excess Flood".
	Flood throttle.Rate `yaml:"flood"`
}

// SASL holds the account the bot logs in to.
type SASL struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// check validates c, fills its defaults, and returns its TLS
// configuration (nil without TLS).
func (c *Config) check() (*tls.Config, error) {
	errs := []error{c.CheckServer()}
	if c.Nick == "" || strings.ContainsAny(c.Nick, " ,*?!@#:") {
		errs = append(errs, fmt.Errorf("nick %q is not a valid nickname", c.Nick))
	}
	for _, ch := range c.Channels {
		if !isChannel(ch) || len(strings.Fields(ch)) > 2 {
			errs = append(errs, fmt.Errorf("channel %q must be \"#chan\" or \"#chan key\" (or start with &, + or !)", ch))
		}
	}
	c.KeyBy = cmp.Or(c.KeyBy, "channel")
	if c.KeyBy != "channel" && c.KeyBy != "channel_user" {
		errs = append(errs, fmt.Errorf("key_by must be channel or channel_user, got %q", c.KeyBy))
	}
	if c.SASL != nil && (c.SASL.User == "" || c.SASL.Password == "") {
		errs = append(errs, errors.New("sasl needs a user and a password"))
	}
	c.Flood = c.Flood.Or(throttle.Rate{Burst: 5, Interval: 2 * time.Second})
	if err := errors.Join(errs...); err != nil || !c.TLS {
		return nil, err
	}
	return c.TLSConfig("")
}

// Factory builds an adapter from its section of the config file.
var Factory = adapters.FactoryFor(New)
