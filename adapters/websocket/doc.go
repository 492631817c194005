// Package websocket is the WebSocket and HTTP adapter: an HTTP server, on
// gorilla/websocket, whose WebSocket requests become "websocket" scopes
// and whose other requests become "http" scopes, all served by one
// application (typically a protocol router over path routers over
// consumers), in the way Django Channels serves ASGI applications.
//
// An adapters.Host runs it (Factory builds it from a config section); the
// Host applies the adapter's ScopeConfig, so that a connection's scope
// never ends for being idle. The Host is ready once the listener is bound,
// and Addr then says where.
//
// # Events
//
// A WebSocket scope starts with websocket.connect. The application answers
// websocket.accept (with an optional subprotocol from
// Scope.Subprotocols), or websocket.close, which rejects the handshake
// with 403. Messages arrive as websocket.receive (Text or Bytes), leave as
// websocket.send (or chat.say, a text message), and websocket.close closes
// the connection with its code.
// The last event is websocket.disconnect with the close code: the
// client's, 1006 when the connection dropped, or the code the server
// closed with (1001 shutdown, 1007 invalid UTF-8, 1009 too big, 1011 the
// application failed, 1013 the client read too slowly).
//
// An HTTP scope gets its body as http.request events in chunks, with
// MoreBody set on all but the last; the next chunk is read only once the
// previous one was handled. The application answers with
// http.response.start and http.response.body events (MoreBody streams the
// response, flushed chunk by chunk); the last event is http.disconnect.
// Handler mounts any http.Handler as an application, so existing Go HTTP
// code runs beside consumers.
//
// # Production behaviour
//
// The origin check is on: a browser page may open a WebSocket only from
// the server's own origins or one in AllowedOrigins (else 403); the own
// origins come from the listener, never from the request's Host header
// alone, which a rebound DNS name controls (see Config.AllowedOrigins).
// Messages over ReadLimit close the connection with 1009, counted once
// inflated when compressed, so a small compressed frame cannot inflate
// into a large message; invalid UTF-8 in a text message closes it with
// 1007. A connection's scope is never evicted for another's: at
// max_scopes a new connection is refused with 503 before the upgrade
// (ScopeConfig), so opening connections cannot disconnect quiet users.
// The chat page (ChatPage) connects to its own host only. Open connections are pinged, and a peer that does not
// answer within PongTimeout is dropped. A send queues the message and
// returns; each connection's queue is bounded, and a client that keeps it
// full for SendTimeout is disconnected (1013) instead of slowing its
// consumer any longer, and it never slows anyone else.
// Request bodies are bounded by MaxBody (413). The Host's Shutdown stops
// accepting, lets every scope handle what it has queued, ends scopes with
// reason shutdown, closes WebSockets with 1001 (a request still unanswered
// gets 503) and waits for responses in flight and for clients to answer
// the close, until its deadline: then what is left is dropped.
//
// # Memory
//
// An idle connection holds its read loop's goroutine, a read buffer of
// ReadBufferSize (512 bytes by default), a keepalive timer and its scope;
// no writer goroutine and no write buffer. Outgoing messages go to a queue
// that a goroutine drains only while it is not empty, writing through
// buffers from a pool shared by all connections. The drainer takes the
// whole queue at once and writes it corked: the frames of a batch, each
// still a frame of its own, leave in one write system call (a message
// written with nothing queued goes out at once, alone). Broadcast encodes
// a message meant for many connections once per process.
package websocket
