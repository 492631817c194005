// Package websocket defines the WebSocket events of Switchboard, named and
// shaped after ASGI's: the adapter turns a connection's traffic into
// Connect, Receive and Disconnect, and the application answers with Accept,
// Send and Close.
package websocket
