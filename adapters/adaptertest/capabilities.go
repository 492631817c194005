package adaptertest

import (
	"testing"

	"github.com/switchboard-bots/switchboard/event"
)

// A Platform implements the capabilities below when its stand-in can do
// what they say; each enables one check of the kit. A check whose
// capability is missing is skipped with a message naming it, so a new
// adapter's test run lists what is left to implement.

// PushPlatform is a Platform whose adapter can deliver an outbound event
// to any conversation without a live scope (adapters.Pusher): a push from
// a worker or another process. Enables TestPush.
type PushPlatform interface {
	Platform
	// PushEvent returns the adapter's outbound event that says text in
	// conversation conv, naming the conversation itself (a
	// telegram.send with its chat_id), as a worker would push it.
	PushEvent(conv, text string) event.Event
}

// AddressPlatform is a PushPlatform whose adapter also takes the chat
// vocabulary's push: event.Say naming its conversation in To. Enables
// TestPushSay.
type AddressPlatform interface {
	PushPlatform
	// Address returns conversation conv in the platform's own terms, as
	// event.Say's To names it: a Telegram chat id, a Slack channel id.
	Address(conv string) string
}

// RefusePlatform is a Platform that can refuse the adapter's calls, as a
// platform refuses a message to a user who blocked the bot. Enables
// TestRefused.
type RefusePlatform interface {
	Platform
	// Refuse makes the platform refuse, from now on, every outbound call
	// to conversation conv with a refusal that stands (not a rate limit,
	// not a server error): Telegram's 403 "bot was blocked by the user",
	// Slack's "channel_not_found".
	Refuse(t testing.TB, conv string)
}

// AckPlatform is a Platform that knows which inbound messages the adapter
// acknowledged (a Telegram offset past the update, a Slack envelope
// acknowledged, a webhook answered with a 2xx). Enables
// TestAckAfterHandling.
type AckPlatform interface {
	Platform
	// Acked returns how many of the messages sent with Say in
	// conversation conv the adapter has acknowledged so far.
	Acked(t testing.TB, conv string) int
}

// DropPlatform is a Platform that can drop the adapter's connection.
// Enables TestReconnect.
type DropPlatform interface {
	Platform
	// Drop breaks the adapter's connection to the platform the way a
	// network failure or a restarting platform does: close the socket,
	// fail the poll in flight. Messages said after Drop must still reach
	// the adapter once it reconnects.
	Drop(t testing.TB)
}

// SayPlatform is a Platform whose adapter sends event.Say ("chat.say"),
// as every chat adapter must. Enables TestSay; its method only marks the
// Platform, since Reply already shows what was said.
type SayPlatform interface {
	Platform
	SaysChat()
}
