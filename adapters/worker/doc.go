// Package worker serves named channels of a channel layer, the way Django
// Channels' runworker does: each message received on a channel is an event
// for the scope of that channel (protocol "channel", Scope.Channel set),
// handled in order by the application that routes channel names to
// consumers (router.ByChannel). It lets background work (a report, a slow
// API call) run in processes of its own that share a Redis layer with the
// processes that talk to users.
//
// A worker's consumers answer through the layer: a job carries the channel
// to reply to, and the consumer sends its result there.
package worker
