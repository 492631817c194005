package consumer

import "github.com/switchboard-bots/switchboard/event"

// ChatMessage is event.ChatMessage.
//
// Deprecated: use event.ChatMessage. This alias stays only until the code
// outside this package that still names it has moved; it will be removed.
type ChatMessage = event.ChatMessage
