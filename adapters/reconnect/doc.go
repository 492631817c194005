// Package reconnect keeps an adapter's one connection to its platform up:
// a Link dials, hands the live connection to the adapter's sends, and
// after a drop dials again, waiting with exponential backoff on the
// Host's clock. It tells the Host what it needs to know: ready once
// the first connection is up, unreachable (with why) while none is. When
// Shutdown begins, Serve returns at once but the connection stays open
// until adapters.Intake.Grace ends, so that the scopes' last replies
// still go out; then the Link closes it.
//
// An adapter whose platform is one long-lived connection (IRC, XMPP, a
// gateway socket) writes only the dial, which connects, logs in and
// joins, and its connection's Close, with Done and Err from an embedded
// Ending; its Serve is Link.Serve and its Send starts with Link.Current.
package reconnect
