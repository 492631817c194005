package consumer

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/scope"
)

// Conversations gives the chat conversations below a WithLayer layer
// channels named from the conversation rather than from the process
// serving it (conversation channels), so that what a conversation joined
// outlives its scope: an idle end, a restart, a move to another process.
// Package server has the one botserver uses; see WithConversations.
//
// A conversation channel's messages do not reach the instance through a
// subscription of its own: the process receiving the channel's prefix
// (a layer.Claimer's claim) hands each to the conversation's scope as a
// layer.Received, starting the scope from the facts Keep recorded when it
// has none. The instance takes a Received as any message of its channel:
// decoded into its handler's type, and dropped, counted and logged when
// it has no handler for it. An instance leaves no group when its scope
// ends: the conversation stays a member until GroupDiscard, or until the
// membership lapses after the layer's group expiry.
type Conversations interface {
	// Channel returns the channel of s's conversation, or "" when s keeps
	// a channel of its process (NewChannel), as a WebSocket does: its
	// connection lives in one process.
	Channel(s *scope.Scope) string
	// Keep records what it takes to start s's conversation again (its
	// facts) for as long as a group membership of channel lasts. An
	// instance calls it when it first uses its channel and each time it
	// joins a group.
	Keep(ctx context.Context, s *scope.Scope, channel string) error
}

// WithConversations makes the chat conversations below WithLayer use the
// conversation channels of c (see Conversations). Default: none; every
// instance's channel is a process channel (NewChannel).
func WithConversations(c Conversations) LayerOption { return func(d *drops) { d.conv = c } }

// ConversationPrefix starts the name of every conversation channel.
const ConversationPrefix = "conv."

// ConversationChannel returns the name of the channel of conversation key
// of adapter, in partition: "conv.<partition>!<adapter>.<key>", the part
// before "!" naming the receiver (the process serving the partition), with
// every byte of adapter and key other than an ASCII letter, a digit or
// '-' written as '_' and two lower-case hex digits, so that the name is a
// valid channel name that ParseConversationChannel reads back. It fails,
// with an error wrapping layer.ErrInvalidName, when the name would not be
// shorter than layer.MaxNameLength.
func ConversationChannel(partition int, adapter, key string) (string, error) {
	var b strings.Builder
	b.Grow(len(ConversationPrefix) + 4 + len(adapter) + len(key) + 8)
	b.WriteString(ConversationPrefix)
	b.WriteString(strconv.Itoa(partition))
	b.WriteByte('!')
	escape(&b, adapter)
	b.WriteByte('.')
	escape(&b, key)
	name := b.String()
	if err := layer.ValidChannelName(name); err != nil {
		return "", fmt.Errorf("consumer: conversation %q of %s: %w", key, adapter, err)
	}
	return name, nil
}

// ParseConversationChannel returns the partition, adapter and key of a
// name ConversationChannel made, and whether it is one.
func ParseConversationChannel(name string) (partition int, adapter, key string, ok bool) {
	rest, found := strings.CutPrefix(name, ConversationPrefix)
	if !found {
		return 0, "", "", false
	}
	p, rest, found := strings.Cut(rest, "!")
	if !found {
		return 0, "", "", false
	}
	partition, err := strconv.Atoi(p)
	if err != nil || partition < 0 {
		return 0, "", "", false
	}
	a, k, found := strings.Cut(rest, ".")
	if !found {
		return 0, "", "", false
	}
	if adapter, ok = unescape(a); !ok {
		return 0, "", "", false
	}
	if key, ok = unescape(k); !ok {
		return 0, "", "", false
	}
	return partition, adapter, key, true
}

const hexDigits = "0123456789abcdef"

func plain(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-'
}

func escape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plain(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
}

func unescape(s string) (string, bool) {
	if !strings.Contains(s, "_") {
		for i := 0; i < len(s); i++ {
			if !plain(s[i]) {
				return "", false
			}
		}
		return s, true
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case plain(c):
			out = append(out, c)
		case c == '_' && i+2 < len(s):
			hi, lo := strings.IndexByte(hexDigits, s[i+1]), strings.IndexByte(hexDigits, s[i+2])
			if hi < 0 || lo < 0 {
				return "", false
			}
			out = append(out, byte(hi<<4|lo))
			i += 2
		default:
			return "", false
		}
	}
	return string(out), true
}

// received turns a layer.Received into its handler's event type, or
// drops it (counted and logged, as any layer message the instance cannot
// handle) and returns nil.
func (b *Base) received(r layer.Received) event.Event {
	ev, err := b.disp.accept(r.Message)
	if err == nil {
		return ev
	}
	w, _ := b.scope.Value(layerKey{}).(*withLayer)
	if w == nil {
		// Below no WithLayer: logged, with nobody to count it.
		w = &withLayer{drops: newDrops(nil)}
	}
	w.drops.drop(LoggerOf(b.scope), b.scope, r.Channel, r.Message.Event(), err)
	return nil
}
