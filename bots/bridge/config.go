package bridge

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/scope"
)

// Web is the adapter part of a channel that names a WebSocket path; it
// matches any WebSocket adapter.
const Web = "web"

// Config is the bot's settings.
type Config struct {
	Bridges []Bridge `yaml:"bridges"`
	// SendWait is how long a relay waits for room in a destination's
	// push channel, when the layer answers that it is full, before it
	// gives the message up for that destination (logged, with the
	// destination). Default: 30s.
	SendWait time.Duration `yaml:"send_wait"`
}

// Bridge links its channels: what is said in one is said in the others.
type Bridge struct {
	// Name names the bridge in logs and in its web members' layer group:
	// letters, digits, hyphen, underscore and period.
	Name string `yaml:"name"`
	// Channels are "adapter:conversation" (see the package doc); at
	// least two.
	Channels []string `yaml:"channels"`
}

// Channel is one bridged conversation.
type Channel struct {
	// Adapter is the adapter's name, or Web.
	Adapter string
	// Conversation is the conversation in the adapter's own terms, or a
	// WebSocket path.
	Conversation string
}

func (c Channel) String() string { return c.Adapter + ":" + c.Conversation }

// ParseChannel parses "adapter:conversation".
func ParseChannel(s string) (Channel, error) {
	a, conv, ok := strings.Cut(s, ":")
	a, conv = strings.TrimSpace(a), strings.TrimSpace(conv)
	if !ok || a == "" || conv == "" {
		return Channel{}, fmt.Errorf("channel %q must be adapter:conversation, as in irc:#golang", s)
	}
	if a == Web && !strings.HasPrefix(conv, "/") {
		return Channel{}, fmt.Errorf("channel %q: a web channel is a path, as in web:/bridge/golang/", s)
	}
	return Channel{Adapter: a, Conversation: conv}, nil
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,80}$`)

// links is the checked configuration: every bridge by name, and the
// bridges each channel is in.
type links struct {
	bridges map[string][]Channel
	of      map[Channel][]string // channel → names of its bridges
}

func (c Config) links() (*links, error) {
	l := &links{bridges: map[string][]Channel{}, of: map[Channel][]string{}}
	var errs []error
	if len(c.Bridges) == 0 {
		errs = append(errs, errors.New("no bridges configured: add them under bots.bridge.bridges"))
	}
	for i, b := range c.Bridges {
		where := fmt.Sprintf("bridges[%d]", i)
		if !validName.MatchString(b.Name) {
			errs = append(errs, fmt.Errorf("%s: name %q must be 1 to 80 letters, digits, '-', '_' or '.'", where, b.Name))
		} else if _, dup := l.bridges[b.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: name %q is used twice", where, b.Name))
		}
		if len(b.Channels) < 2 {
			errs = append(errs, fmt.Errorf("%s: a bridge links at least two channels, got %d", where, len(b.Channels)))
		}
		var chans []Channel
		for _, s := range b.Channels {
			ch, err := ParseChannel(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				continue
			}
			ch = ch.key()
			if containsChannel(chans, ch) {
				errs = append(errs, fmt.Errorf("%s: channel %s is listed twice", where, ch))
				continue
			}
			chans = append(chans, ch)
			l.of[ch] = append(l.of[ch], b.Name)
		}
		l.bridges[b.Name] = chans
	}
	if c.SendWait < 0 {
		errs = append(errs, fmt.Errorf("send_wait must not be negative, got %s", c.SendWait))
	}
	return l, errors.Join(errs...)
}

func containsChannel(chans []Channel, c Channel) bool {
	for _, x := range chans {
		if x == c {
			return true
		}
	}
	return false
}

// key is c as the bot matches it: IRC names ignore case, so its
// conversations are compared in lower case.
func (c Channel) key() Channel {
	if strings.HasPrefix(c.Conversation, "#") || strings.HasPrefix(c.Conversation, "&") {
		c.Conversation = strings.ToLower(c.Conversation)
	}
	return c
}

// channelOf returns the channel a scope is, as the bot matches it.
func channelOf(s *scope.Scope) Channel {
	if s.Type == "websocket" {
		return Channel{Adapter: Web, Conversation: s.Path}
	}
	return Channel{Adapter: s.Adapter, Conversation: s.Chat.ID}.key()
}
