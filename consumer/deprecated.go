package consumer

import "github.com/switchboard-bots/switchboard/event"

// ChatMessage is event.ChatMessage.
//
// Deprecated: use event.ChatMessage. This alias stays only until the code
// outside this package that still names it has moved; it will be removed.
type ChatMessage = event.ChatMessage

// Type is App, the application of a consumer type.
//
// Deprecated: use App. "Type" names event types (Event.Type) and a scope's
// protocol (Scope.Type) already; this alias stays only until the code
// outside this package that still names it has moved.
type Type[P Instance] = App[P]
