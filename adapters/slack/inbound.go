package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// Protocol is the scope type of Slack conversations.
const Protocol = "slack"

// errMalformed marks input that is not what Slack sends: answered 400 in
// HTTP mode, acknowledged and dropped in Socket Mode (a retry would not
// make it better).
var errMalformed = errors.New("slack: malformed payload")

// inbound is one decoded update on its way to a scope.
type inbound struct {
	id        string // for dropping retries; "" when Slack sends none
	team      string
	channel   string
	chanType  string
	chanTitle string
	user      string
	thread    string
	ev        event.Event // nil: acknowledge and deliver nothing
	challenge string      // url_verification's answer
}

// outerEvent is the Events API envelope, read first to tell the kinds
// apart and to keep the ids slackevents does not return.
type outerEvent struct {
	Type      string          `json:"type"`
	TeamID    string          `json:"team_id"`
	EventID   string          `json:"event_id"`
	Challenge string          `json:"challenge"`
	Event     json.RawMessage `json:"event"`
}

// innerPeek reads the fields every inner event may carry.
type innerPeek struct {
	Type     string `json:"type"`
	SubType  string `json:"subtype"`
	Channel  any    `json:"channel"` // a string, or an object in channel_* events
	User     any    `json:"user"`    // a string, or an object in team_join
	ThreadTS string `json:"thread_ts"`
	Item     struct {
		Channel string `json:"channel"`
	} `json:"item"`
}

// chatSubtypes are the message subtypes that are new messages a bot may
// answer; edits, deletions and joins become slack.event.
var chatSubtypes = map[string]bool{"": true, "file_share": true, "thread_broadcast": true, "me_message": true, "bot_message": true}

// decodeEventsAPI decodes an Events API payload: the body of an HTTP
// request or the payload of a Socket Mode events_api envelope.
func (a *Adapter) decodeEventsAPI(body []byte) (inbound, error) {
	var outer outerEvent
	if err := json.Unmarshal(body, &outer); err != nil {
		return inbound{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	switch outer.Type {
	case slackevents.URLVerification:
		if outer.Challenge == "" {
			return inbound{}, fmt.Errorf("%w: url_verification without a challenge", errMalformed)
		}
		return inbound{challenge: outer.Challenge}, nil
	case slackevents.AppRateLimited:
		a.log.Warn("slack: Slack is dropping events: the app exceeded the Events API rate limit", "adapter", a.cfg.Name)
		return inbound{}, nil
	case slackevents.CallbackEvent:
	default:
		return inbound{}, fmt.Errorf("%w: unknown payload type %q", errMalformed, outer.Type)
	}
	var peek innerPeek
	if len(outer.Event) == 0 || json.Unmarshal(outer.Event, &peek) != nil || peek.Type == "" {
		return inbound{}, fmt.Errorf("%w: event_callback without a usable event", errMalformed)
	}
	in := inbound{id: outer.EventID, team: outer.TeamID, thread: peek.ThreadTS}
	in.channel, _ = peek.Channel.(string)
	in.user, _ = peek.User.(string)
	if in.channel == "" {
		in.channel = peek.Item.Channel
	}
	raw := json.RawMessage(outer.Event)
	switch {
	case peek.Type == "message" && chatSubtypes[peek.SubType],
		peek.Type == "app_mention", peek.Type == "reaction_added":
		parsed, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
		if err != nil {
			return inbound{}, fmt.Errorf("%w: %v", errMalformed, err)
		}
		switch inner := parsed.InnerEvent.Data.(type) {
		case *slackevents.MessageEvent:
			in.ev, in.chanType = a.message(outer, inner, raw), inner.ChannelType
		case *slackevents.AppMentionEvent:
			if a.own(inner.User, inner.BotID) {
				return in, nil
			}
			in.ev = AppMention{EventID: outer.EventID, Team: outer.TeamID, Channel: inner.Channel,
				User: inner.User, Text: inner.Text, TS: inner.TimeStamp, ThreadTS: inner.ThreadTimeStamp, Raw: raw}
		case *slackevents.ReactionAddedEvent:
			in.channel = inner.Item.Channel
			in.thread = "" // a reaction belongs to the channel, whatever the item
			in.ev = ReactionAdded{EventID: outer.EventID, Team: outer.TeamID, Channel: inner.Item.Channel,
				User: inner.User, Reaction: inner.Reaction, ItemUser: inner.ItemUser, ItemTS: inner.Item.Timestamp, Raw: raw}
		default:
			return inbound{}, fmt.Errorf("%w: unexpected %T for %q", errMalformed, inner, peek.Type)
		}
	default:
		in.thread = ""
		ev := Event{EventID: outer.EventID, EventType: peek.Type, Team: outer.TeamID,
			Channel: in.channel, User: in.user, Raw: raw}
		if peek.SubType != "" {
			ev.EventType += "." + peek.SubType
		}
		in.ev = ev
	}
	if in.chanType == "" {
		in.chanType = channelType(in.channel)
	}
	return in, nil
}

// message converts a message event, or returns nil for one the bot must
// not see: its own, and other bots' unless IncludeBots.
func (a *Adapter) message(outer outerEvent, m *slackevents.MessageEvent, raw json.RawMessage) event.Event {
	if a.own(m.User, m.BotID) {
		return nil
	}
	if !a.cfg.IncludeBots && (m.SubType == "bot_message" || m.BotID != "") {
		return nil
	}
	msg := Message{EventID: outer.EventID, Team: outer.TeamID, Channel: m.Channel, ChannelType: m.ChannelType,
		User: m.User, Text: m.Text, TS: m.TimeStamp, ThreadTS: m.ThreadTimeStamp, SubType: m.SubType,
		BotID: m.BotID, Raw: raw}
	if m.Message != nil {
		for _, f := range m.Message.Files {
			msg.Files = append(msg.Files, File{ID: f.ID, Name: f.Name, Title: f.Title, Mimetype: f.Mimetype,
				Filetype: f.Filetype, Size: f.Size, URLPrivate: f.URLPrivate, Permalink: f.Permalink})
		}
	}
	return msg
}

// own reports whether a user or bot id is the bot itself.
func (a *Adapter) own(user, bot string) bool {
	id := a.identity()
	return (user != "" && user == id.UserID) || (bot != "" && bot == id.BotID)
}

// channelType guesses a conversation's type from its id's prefix, for
// events that do not carry channel_type.
func channelType(id string) string {
	switch {
	case id == "":
		return ""
	case strings.HasPrefix(id, "D"):
		return "im"
	case strings.HasPrefix(id, "G"):
		return "group"
	default:
		return "channel"
	}
}

// decodeCommand converts a slash command.
func decodeCommand(c slackapi.SlashCommand) (inbound, error) {
	if c.Command == "" || c.TeamID == "" || c.ChannelID == "" {
		return inbound{}, fmt.Errorf("%w: slash command without command, team or channel", errMalformed)
	}
	return inbound{team: c.TeamID, channel: c.ChannelID, chanType: channelType(c.ChannelID),
		chanTitle: c.ChannelName, user: c.UserID,
		ev: Command{Team: c.TeamID, Channel: c.ChannelID, ChannelName: c.ChannelName, User: c.UserID,
			UserName: c.UserName, Command: c.Command, Text: c.Text, ResponseURL: c.ResponseURL, TriggerID: c.TriggerID},
	}, nil
}

// decodeInteraction converts an interactivity payload (JSON).
func decodeInteraction(payload []byte) (inbound, error) {
	var cb slackapi.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		return inbound{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if cb.Type == "" || cb.Team.ID == "" {
		return inbound{}, fmt.Errorf("%w: interaction without type or team", errMalformed)
	}
	ch := cb.Channel.ID
	if ch == "" {
		ch = cb.Container.ChannelID
	}
	ev := Interaction{Kind: string(cb.Type), Team: cb.Team.ID, Channel: ch, User: cb.User.ID,
		MessageTS: cb.Container.MessageTs, ThreadTS: cb.Container.ThreadTs, ResponseURL: cb.ResponseURL,
		TriggerID: cb.TriggerID, Raw: json.RawMessage(payload)}
	if ev.MessageTS == "" {
		ev.MessageTS = cb.Message.Timestamp
	}
	if acts := cb.ActionCallback.BlockActions; len(acts) > 0 {
		ev.ActionID, ev.BlockID, ev.Value = acts[0].ActionID, acts[0].BlockID, acts[0].Value
		if ev.Value == "" && acts[0].SelectedOption.Value != "" {
			ev.Value = acts[0].SelectedOption.Value
		}
	}
	return inbound{team: cb.Team.ID, channel: ch, chanType: channelType(ch), chanTitle: cb.Channel.Name,
		user: cb.User.ID, thread: cb.Container.ThreadTs, ev: ev}, nil
}

// key files an update under its conversation: team and channel, plus the
// thread when threads are conversations. Updates without a channel
// (team_join, ...) share the team's own conversation.
func (a *Adapter) key(in *inbound) string {
	k := in.team + ":" + in.channel
	if a.cfg.Threads && in.thread != "" {
		k += ":" + in.thread
	}
	return k
}

// newScope builds the scope of a new conversation.
func (a *Adapter) newScope(in *inbound) func() *scope.Scope {
	return func() *scope.Scope {
		s := &scope.Scope{
			Type:    Protocol,
			Adapter: a.cfg.Name,
			User:    scope.User{ID: in.user},
			Bot:     scope.User{ID: a.identity().UserID},
			Chat:    scope.Chat{ID: in.channel, Type: in.chanType, Title: in.chanTitle},
			Team:    in.team,
		}
		if a.cfg.Threads {
			s.Thread = in.thread
		}
		return s
	}
}
