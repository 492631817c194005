// Package consumer is where bot authors write code. A consumer type is a Go
// struct that embeds Base (or one of the ready-made WebSocket, HTTP and
// Chat bases) and declares one method per event type it handles; New turns
// the struct's constructor and its handlers into a scope.Application that
// makes one instance per scope:
//
//	type Echo struct{ consumer.Chat }
//
//	func (e *Echo) Message(ctx context.Context, m event.ChatMessage) error {
//		return e.Reply(ctx, "You said: "+m.ChatText())
//	}
//
//	var app = consumer.New(func() *Echo { return new(Echo) },
//		consumer.OnMessage((*Echo).Message))
//
// Handlers are registered once per type and checked by the compiler: a
// handler receives its own event struct, whether the event came from an
// adapter or as a generic message from a channel layer. A platform event
// with no handler is an error naming its type (an UnknownEventError, which
// ends the scope), except the final disconnect event, which a consumer may
// ignore.
//
// # Layer messages the consumer cannot handle
//
// Any process that can write to the channel layer can send to a group: a
// Django consumer's chat.message, a message of an older version of the
// bot. A layer message whose type has no handler, or whose fields do not
// decode into the handler's event type, is dropped before it enters the
// scope: the scope and its connection go on, a warning names the type,
// the channel, the reason and the error (once per type per minute for all
// the consumers below one WithLayer, with the number of drops it did not
// log), and an observer given with ObserveDrops counts every drop, as
// ops.Metrics does in switchboard_layer_messages_dropped_total.
//
// # Chat consumers
//
// A type embedding Chat serves every chat protocol with one code path:
// OnMessage takes the message events of Telegram, Slack, IRC, the console
// and any added adapter (event.ChatMessage), and the text frames of the web
// page's WebSocket, whose connection Chat accepts by itself. Reply answers
// the chat message being handled, in whichever handler it is handled;
// Say speaks in the conversation from any handler, such as the handler of
// a message another member sent to a layer group.
//
// # What a consumer handles
//
// Type.HandlesProtocol tells which protocols a consumer type has handlers
// for, so that a server refuses a route to a bot that could not serve it
// before the first event fails (see router.HandlesProtocol). WithLayer and
// WithLogger pass the question on to what they wrap.
//
// # Ordering
//
// One scope's events run one at a time in arrival order, while scopes run
// in parallel; a handler may block (a database call, a timer) and delays
// only its own scope. Messages the instance receives on its layer channel
// (ChannelName, GroupAdd) enter the same inbox, so they are ordered with
// platform events. On a layer that delivers process-local channels itself
// (layer.Subscriber: the in-memory and Redis layers) an instance's channel
// needs no goroutine: the layer posts each message to the inbox without
// waiting (scope.TryPoster), the members of one group message in a process
// share one decoding of it, and messages that meet a full inbox wait in a
// backlog of Backlog messages (default 100) that a goroutine posts while
// it is not empty; one more is dropped, counted and logged with reason
// backlog_full. On any other layer an instance that uses the layer holds
// one goroutine, blocked in Receive on its channel, until its scope ends.
// Events from the layer are shared values: handlers must not modify them. The protocol's disconnect event
// is the last an instance sees; after its handler the instance leaves its
// groups and its channel stops receiving. Per-scope state lives in the
// struct's fields.
//
// # Conversation channels
//
// Below WithConversations, a chat conversation's channel is named from the
// conversation ("conv.<partition>!<adapter>.<key>", ConversationChannel)
// rather than made by NewChannel for the process, so that what it joined
// outlives its scope: its memberships are kept when the scope ends, and a
// message sent to the channel while no scope is live starts one, in the
// process that receives the channel, from the facts kept when the
// conversation first used its channel or joined a group (see
// Conversations). Such messages reach the instance through its inbox as
// layer.Received events, handled like any message of its channel. A
// WebSocket's channel stays its process's: a connection lives in one.
//
// # State that outlives the scope
//
// The struct's fields last as long as the scope: an idle end, an eviction
// or a restart starts them again from nothing. A consumer type that embeds
// Stateful[S] declares a state of type S that lasts as long as the
// conversation: it is loaded before each event from the session store that
// session.Middleware puts on the scope (in memory without it), handed to
// the handler through State, and saved after a handler that changed it,
// with the handler run again on the newer state when another process saved
// first. The handler's sends go out once its state is saved.
//
// # Logging
//
// Consumers log through the logger given with WithLogger (slog.Default()
// without it): what fails outside any handler, such as a layer receive
// being retried, and what handlers log through Base.Logger.
//
// # Import names
//
// The event packages of the WebSocket and HTTP protocols are imported as
// wsevent and httpevent, so that net/http and WebSocket libraries keep
// their own names in the same file (see package event).
package consumer
