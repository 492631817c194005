// Package adaptertest is the conformance kit for chat adapters. A new
// adapter is done when Run passes against it: the kit drives the adapter
// through a stand-in for its platform (a local server that speaks the
// platform's API, a pipe) and checks, with a real consumer on the other
// side, that conversations become scopes, that a conversation's messages
// arrive in order while conversations run in parallel, that replies reach
// the platform, that idle scopes end, that shutdown ends every scope, and
// that bad input neither stops the adapter nor loses the messages after it.
package adaptertest
