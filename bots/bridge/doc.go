// Package bridge is a bot that links channels of any protocols, configured
// in YAML alone, like matterbridge's gateways:
//
//	bridges:
//	  - name: golang
//	    channels: [irc:#golang, slack:C012345, telegram:-100123456, web:/bridge/golang/]
//
// A channel is "adapter:conversation": the adapter's name in the config
// file and the conversation in that platform's own terms (a Telegram chat
// id, a Slack channel id, an IRC channel, an XMPP room, a Discord channel
// id, a Matrix room id), or "web:" and the path of a WebSocket route.
//
// A message in one channel of a bridge appears in every other channel of
// it as "[protocol] sender: text", and never comes back to its own. Chat
// channels are reached by pushing event.Say, naming the conversation in To,
// to the adapter's push channel on the channel layer: the process that
// runs the adapter sends it under that platform's rate limits, so a bridge
// spans several processes on a Redis layer, and a channel is reached
// whether or not anyone spoke there since the last restart. The web page's
// members of a bridge share a layer group, "bridge.<name>".
//
// Route the protocols of the bridged channels to the bot. A conversation
// that is in no bridge is ignored; a WebSocket handshake on a path that
// is in none is refused (HTTP 403).
//
// Limits: a channel naming an adapter that no process runs gets pushes
// that nobody takes, and the layer drops them at its expiry; a web path
// listed in several bridges shows a fellow web member's message once per
// bridge.
package bridge
