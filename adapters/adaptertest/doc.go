// Package adaptertest is the conformance kit for chat adapters. Every
// adapter, built-in or a user's, runs it from its own tests; a new adapter
// is done when Run passes against it:
//
//	func TestConformance(t *testing.T) {
//		adaptertest.Run(t, func(t *testing.T, cfg scope.Config) (adapters.Runner, adaptertest.Platform) {
//			p := newFakePlatform(t)
//			return adapters.NewHost(newAdapter(p.URL), adapters.WithScopes(cfg)), p
//		})
//	}
//
// The kit drives the adapter through a stand-in for its platform (a local
// server that speaks the platform's API, a pipe) and checks, with a real
// consumer on the other side, that conversations become scopes, that a
// conversation's messages arrive in order while conversations run in
// parallel, that replies reach the platform, that idle scopes end, that
// shutdown ends every scope, that Shutdown keeps its deadline with a
// handler stuck, and that bad input neither stops the adapter nor loses
// the messages after it.
//
// # Capabilities
//
// Every Platform says, replies and sends bad input. A Platform that can do
// more implements the capability interfaces, each of which enables one
// more check; without it the check is skipped with a message naming the
// interface, so an adapter's test run lists what is left to implement. A
// stand-in that can should implement all of them:
//
//   - SayPlatform (SaysChat): the adapter sends event.Say, which every
//     chat adapter must; TestSay.
//   - PushPlatform (PushEvent): the adapter pushes an outbound event to a
//     conversation without a scope; TestPush.
//   - AddressPlatform (Address): the adapter also pushes the chat
//     vocabulary's event.Say naming its conversation in To; TestPushSay.
//   - RefusePlatform (Refuse): the platform refuses calls to a
//     conversation, and Send returns a *adapters.RefusedError; TestRefused.
//   - AckPlatform (Acked): the platform counts the messages the adapter
//     acknowledged, which it must do only once they were handled, and
//     never for a message whose handler a stop cut short;
//     TestAckAfterHandling.
//   - DropPlatform (Drop): the platform drops the connection, and the
//     adapter reconnects on its own; TestReconnect.
//
// The kit's application answers each message with "echo: <text>"; a few
// texts make it block, hang or say something instead (see the checks).
// Every check is also exported on its own, as TestXxx(t, h), for running
// one of them alone.
package adaptertest
