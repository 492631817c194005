// Package fence settles the sends of a protocol that answers a message
// only when it refuses it, as IRC and XMPP do. The adapter sends its
// message, then a request the server answers in order (a PING, an XMPP
// ping): a refusal of the message arrives before that answer, so once the
// answer comes the send's outcome is known. A Set holds the fences open
// on one connection; the connection's reader files each refusal with
// Refuse and each answer with Settle, and fails them all with
// Lose(ErrLost) when the connection drops, so that no sender waits for an
// answer that will never come.
package fence
