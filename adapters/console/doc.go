// Package console is a chat adapter over a pair of streams: by default the
// terminal, so that a bot can be tried without any platform account. Each
// input line is a message; a line "@name text" goes to conversation name,
// any other line to conversation "console". Replies are written as
// "[conversation] text". It is also the reference adapter: a name, Serve
// and Send on adapters.Host, passing the conformance kit in adaptertest.
package console
