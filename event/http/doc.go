// Package http defines the HTTP events of Switchboard, named and shaped
// after ASGI's: the adapter streams a request body as Request events, the
// application answers with ResponseStart and one or more ResponseBody
// events, and Disconnect ends the scope.
package http
