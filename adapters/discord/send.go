package discord

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// maxContent is Discord's bound on a message's content, in characters.
const maxContent = 2000

// Send implements adapters.Adapter: discord.send, and chat.say to the
// scope's own channel. A call Discord refuses returns an
// *adapters.RefusedError wrapping an *APIError.
func (a *Adapter) Send(ctx context.Context, s *scope.Scope, ev event.Event) error {
	own, _ := adapters.Value[string](s)
	switch ev.Type() {
	case event.Say{}.Type():
		say, err := event.Decode[event.Say](ev)
		if err != nil {
			return err
		}
		return a.post(ctx, Send{ChannelID: cmp.Or(say.To, own), Content: say.Text})
	case Send{}.Type():
		send, err := event.Decode[Send](ev)
		if err != nil {
			return err
		}
		if send.ChannelID == "" {
			send.ChannelID = own
		}
		return a.post(ctx, send)
	}
	return fmt.Errorf("discord: cannot send %q: %w", ev.Type(), adapters.ErrUnsupported)
}

// Push implements adapters.Pusher: a discord.send naming its channel, or
// a chat.say naming it in To.
func (a *Adapter) Push(ctx context.Context, ev event.Event) error {
	send, err := event.Decode[Send](ev)
	if say, ok, serr := event.AsSay(ev); ok {
		send, err = Send{ChannelID: say.To, Content: say.Text}, serr
	}
	if err != nil {
		return err
	}
	if send.ChannelID == "" {
		return errors.New("discord: a pushed discord.send needs a channel_id")
	}
	return a.post(ctx, send)
}

// createMessage is the body of POST /channels/{channel.id}/messages.
type createMessage struct {
	Content string `json:"content"`
	// Nonce with EnforceNonce makes Discord answer a retried post with
	// the message it already made, instead of posting it twice.
	Nonce           string          `json:"nonce"`
	EnforceNonce    bool            `json:"enforce_nonce"`
	AllowedMentions allowedMentions `json:"allowed_mentions"`
	Reference       *reference      `json:"message_reference,omitempty"`
}

type allowedMentions struct {
	Parse []string `json:"parse"`
}

type reference struct {
	MessageID       string `json:"message_id"`
	FailIfNotExists bool   `json:"fail_if_not_exists"`
}

// post sends s as one message per piece of its content.
func (a *Adapter) post(ctx context.Context, s Send) error {
	if s.ChannelID == "" {
		return errors.New("discord: no channel to send to")
	}
	if strings.ContainsAny(s.ChannelID, "/?#%") {
		return fmt.Errorf("discord: bad channel id %q", s.ChannelID)
	}
	mentions := allowedMentions{Parse: []string{}}
	if s.Mentions {
		mentions.Parse = []string{"users", "roles"}
	}
	endpoint := discordgo.EndpointChannelMessages(s.ChannelID)
	for i, piece := range split(s.Content) {
		body := createMessage{Content: piece, Nonce: nonce(), EnforceNonce: true, AllowedMentions: mentions}
		if i == 0 && s.ReplyTo != "" {
			body.Reference = &reference{MessageID: s.ReplyTo}
		}
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		if _, err := a.call(ctx, "POST", endpoint, data); err != nil {
			return a.refusal("POST /channels/{channel.id}/messages", err)
		}
	}
	return nil
}

// nonce returns a random nonce of Discord's maximum, 25 characters.
func nonce() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	var b [25]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// split cuts text into pieces of at most maxContent characters, at the
// last line break or else space of each piece (which is dropped) when
// that keeps at least half of it. An empty text is one empty piece, which Discord refuses with
// its own error.
func split(text string) []string {
	var out []string
	for utf8.RuneCountInString(text) > maxContent {
		cut := 0
		for range maxContent {
			_, n := utf8.DecodeRuneInString(text[cut:])
			cut += n
		}
		next := cut
		if i := strings.LastIndexByte(text[:cut], '\n'); i > cut/2 {
			cut, next = i, i+1
		} else if i := strings.LastIndexByte(text[:cut], ' '); i > cut/2 {
			cut, next = i, i+1
		}
		out = append(out, text[:cut])
		text = text[next:]
	}
	return append(out, text)
}
