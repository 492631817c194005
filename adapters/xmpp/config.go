package xmpp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/switchboard-bots/switchboard/adapters"
)

// Config is the adapter's section of the config file.
type Config struct {
	// JID is the bot's account, "bot@example.org", with a resource if
	// wanted ("bot@example.org/switchboard"); without one the server
	// picks it.
	JID string `yaml:"jid"`
	// Password is the account's password, sent only through SASL on a
	// stream secured with STARTTLS.
	Password Secret `yaml:"password"`
	// Endpoint is the server's host:port, and a CA file to trust. Without
	// a server: the domain's _xmpp-client._tcp SRV records, then the
	// domain on port 5222.
	adapters.Endpoint `yaml:",inline"`
	// Rooms are the multi-user chat rooms joined on every connection:
	// "room@conference.example.org", or ".../nick" for a nick of its own.
	Rooms []string `yaml:"rooms"`
	// Nick is the bot's nick in rooms. Default: the JID's localpart.
	Nick string `yaml:"nick"`
	// PingInterval is how often the adapter pings its server to find a
	// dead connection (XEP-0199); a ping unanswered for as long drops
	// it. Default 1m; negative turns pings off.
	PingInterval time.Duration `yaml:"ping_interval"`
	// MaxMessage is the longest body sent in one message, in bytes;
	// longer texts go as several, cut at line ends or UTF-8 boundaries,
	// so that no message reaches a server's stanza size limit (which
	// closes the stream). Default 8192.
	MaxMessage int `yaml:"max_message"`
}

// Secret is a password: it prints as "[redacted]", so that no log line,
// %v or error shows it.
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return `"[redacted]"` }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

const (
	defaultPing       = time.Minute
	defaultMaxMessage = 8192
)

// room is a configured room: its bare JID and the nick to ask for.
type room struct {
	addr jid.JID
	nick string
}

// parsed holds what check made of the config.
type parsed struct {
	me    jid.JID
	rooms []room
	tls   *tls.Config
}

// Validate checks c and fills its defaults, touching no network; New
// calls it.
func (c *Config) Validate() error {
	_, err := c.check()
	return err
}

// check validates c, fills its defaults, and parses what Serve needs.
func (c *Config) check() (parsed, error) {
	var p parsed
	var errs []error
	me, err := jid.Parse(c.JID)
	if err != nil || me.Localpart() == "" {
		errs = append(errs, fmt.Errorf("jid must be user@domain, got %q", c.JID))
	}
	p.me = me
	if c.Password == "" {
		errs = append(errs, errors.New("password is required"))
	}
	if err := c.CheckServer(); c.Server != "" && err != nil {
		errs = append(errs, err)
	}
	if c.Nick == "" {
		c.Nick = me.Localpart()
	}
	for _, r := range c.Rooms {
		addr, err := jid.Parse(r)
		if err != nil || addr.Localpart() == "" {
			errs = append(errs, fmt.Errorf("room %q must be room@service", r))
			continue
		}
		nick := addr.Resourcepart()
		if nick == "" {
			nick = c.Nick
		}
		p.rooms = append(p.rooms, room{addr: addr.Bare(), nick: nick})
	}
	if c.PingInterval == 0 {
		c.PingInterval = defaultPing
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = defaultMaxMessage
	}
	if len(errs) == 0 {
		p.tls, err = c.TLSConfig(me.Domainpart())
		errs = append(errs, err)
	}
	return p, errors.Join(errs...)
}

// Factory builds an adapter from its section of the config file.
func Factory(s adapters.Setup) (adapters.Adapter, error) {
	return adapters.FactoryFor(func(name string, cfg Config) (*Adapter, error) { return New(name, cfg) })(s)
}
