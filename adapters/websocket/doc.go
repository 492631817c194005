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
// A client that hangs up, ending its side of the stream without a close
// frame (a half-close), may still read, and what it sent before was
// accepted: its scope handles the messages queued, then
// websocket.disconnect with 1006, and the answers go out before the
// server's close frame; then the socket closes. CloseTimeout bounds
// this from the hang-up: a handler still running then, or a client that
// does not read, holds the connection no longer. A client that closes
// with a close frame is answered with one at once, as the protocol has
// it, and a connection that failed (a reset, a missed pong) closes at
// once.
//
// An HTTP scope gets its body as http.request events in chunks, with
// MoreBody set on all but the last; the next chunk is read only once the
// previous one was handled. The application answers with
// http.response.start and http.response.body events (MoreBody streams the
// response, flushed chunk by chunk); the last event is http.disconnect.
// Handler mounts any http.Handler as an application, so existing Go HTTP
// code runs beside consumers.
//
// # The chat protocol
//
// A chat bot's question with choices (event.Ask) shows on the chat page
// as buttons. The page offers the subprotocol ChatSubprotocol
// ("switchboard.chat"), which the adapter chooses when the application
// accepts the connection without naming a subprotocol of its own (a chat
// consumer's default). On such a connection a text frame that starts with
// U+001E (the record separator, which no typed text begins with) is a
// frame of the protocol, a JSON object after the mark; every other frame
// is text, as on any connection:
//
//	server → client  \x1e{"type":"ask","text":"Which size?","choices":[{"text":"S","token":"t1"},{"text":"M","token":"t2"}]}
//	client → server  \x1e{"type":"answer","token":"t2"}
//	server → client  \x1e{"type":"refused","token":"t9","error":"That choice is not offered (any more)."}
//	server → client  \x1e{"type":"text","text":"\u001e..."}   (a bot's text that starts with the mark)
//
// An answer is delivered as event.Answer (the token and the choice's
// text) only when its token is one of the last question's choices on this
// connection, and once: a forged token, one of an earlier question or a
// second answer to one question gets a refusal frame and reaches no
// application. A client's frame of the protocol that is over 1 KiB, not
// JSON after the mark, or not an answer with a token closes the connection
// with 1007. A client
// that does not offer the subprotocol gets an event.Ask as its numbered
// lines ("Which size?\n1. S\n2. M") in a text frame, and answers by
// typing; a frame starting with the mark is then its text like any other.
// Send refuses an event.Ask no client could answer (no choices, over 100,
// a token empty, repeated or over event.MaxTokenLen) with ErrInvalidAsk.
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
// no writer goroutine and no write buffer. Between messages the read loop
// waits for input a few small frames deep, outside gorilla's reader, so
// that its stack shrinks to 4 KiB at the next collections (waiting inside
// the reader, it would keep 8 KiB). Outgoing messages go to a queue
// that a goroutine drains only while it is not empty, writing through
// buffers from a pool shared by all connections. The drainer takes the
// whole queue at once and writes it corked: the frames of a batch, each
// still a frame of its own, leave in one write system call (a message
// written with nothing queued goes out at once, alone). Unless compression
// is on, the adapter frames text and binary messages itself, as gorilla
// would, without its writer's per-message lock hand-off and allocation.
// Broadcast encodes a message meant for many connections once per
// process.
//
// # Writing to many connections from one goroutine
//
// TrySend writes a Broadcast to a connection without ever waiting, from
// any goroutine: code that fans a message out to the local members of a
// group, such as a channel layer's subscriber, can write it to every
// member's socket itself rather than wake a goroutine per member. With
// nothing queued and compression off, the frame, built once for all
// connections, goes to the socket in one write system call that takes
// what the socket buffer has room for; the rest, or a frame that cannot
// go at once, waits in the connection's queue for its writer, in order
// with Send. Since TrySend cannot wait for room, a connection whose queue
// is full is disconnected at once with 1013. TrySendAll sends several
// messages so, their frames together in one write system call.
package websocket
