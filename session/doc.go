// Package session keeps what a conversation remembers beyond the life of
// its scope: an idle end, an eviction, a restart of the process, a move of
// the conversation to another process.
//
// A Store holds versioned values under string keys. Every Save names the
// version it was computed from, and a Save whose version is no longer the
// stored one fails with ErrConflict: two writers that read the same value
// never silently overwrite each other, and the one that lost reads again
// and redoes its update. Each value has a time to live, renewed by every
// Save.
//
// Keys name what a value belongs to. ConversationKey is per conversation
// (one chat, one channel, one thread); UserKey is per user of a platform,
// so that a user's preferences follow them from chat to chat. Middleware
// puts a store on the scope for the consumers, middleware and routers
// below it, as Django Channels' SessionMiddleware does, and may map the
// platform's user to the application's own (WithUser).
//
// Consumers rarely call a Store: a consumer type that embeds
// consumer.State declares its state type, and the consumer package loads,
// hands over and saves it (see package consumer).
//
// A store in the process's memory may also be a ValueStore: it keeps a
// plain state (no pointers, maps or slices) as the Go value it is, and
// encodes it only when a Load asks for its bytes, so that a state-changing
// event costs no encoding there. A LoadValue names the version the caller
// holds, and gets no value back when it is still the stored one; a
// SaveValue gives back the value it replaced when nobody else was given
// it, for the caller's next save to reuse, so that a state saved after
// every event costs no new memory either. The consumer package uses it
// when it can.
//
// Backends live in subpackages: session/memory (one process, the default)
// and session/redis (many processes). Both pass the conformance suite in
// session/sessiontest, which a backend of one's own runs with one call.
package session
