// Package xmpp connects bots to an XMPP server.
package xmpp
