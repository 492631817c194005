package router

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/switchboard-bots/switchboard/scope"
)

// Command is a chat command parsed from a message such as
// "/remind@switchboard_bot tomorrow 9:00".
type Command struct {
	// Name is the command without its "/" and without the bot mention:
	// "remind". CommandRouter puts the registered (lower-case) name here.
	Name string
	// Mention is the bot username after "@", when the command had one.
	Mention string
	// Args is the rest of the text after the command and the white space
	// that follows it, with trailing white space removed: "tomorrow 9:00".
	Args string
}

// ParseCommand parses text as a chat command: a "/" at the very start,
// immediately followed by the name, optionally "@" and the bot's username
// (Telegram's form in groups), then white space and the arguments. It
// reports false when text is not a command.
func ParseCommand(text string) (Command, bool) {
	if len(text) < 2 || text[0] != '/' {
		return Command{}, false
	}
	token, args := text[1:], ""
	if i := strings.IndexFunc(token, unicode.IsSpace); i >= 0 {
		token, args = token[:i], strings.TrimSpace(token[i:])
	}
	name, mention, _ := strings.Cut(token, "@")
	if name == "" {
		return Command{}, false
	}
	return Command{Name: name, Mention: mention, Args: args}, true
}

type commandKey struct{}

// CommandFrom returns the command of the event being handled, when the
// event came through a CommandRouter as a command: to the application of a
// registered command, or to the fallback for an unknown one.
func CommandFrom(ctx context.Context) (Command, bool) {
	c, ok := ctx.Value(commandKey{}).(*Command)
	if !ok {
		return Command{}, false
	}
	return *c, true
}

// CommandArgs returns the arguments of the command being handled, or ""
// when there are none or the event is not a command.
func CommandArgs(ctx context.Context) string {
	c, _ := CommandFrom(ctx)
	return c.Args
}

// CommandRouter routes each event of a chat scope: a message that is a
// command ("/start", "/help@my_bot topic") goes to the application
// registered for that command, and every other event (plain messages,
// unknown commands, events that are not messages) goes to the fallback.
// Without a fallback such events fail with an error wrapping ErrNoRoute,
// which ends the scope; register a fallback that ignores them if they are
// to be ignored.
//
// A message is a chat message as event.AsChatMessage says: the message
// events of every chat adapter and the WebSocket's text frames; events
// decoded from a layer as event.Message are not messages. Command names match without
// regard to case. A command that mentions another bot than
// the scope's Bot.Username is addressed to that bot and counts as a plain
// message.
//
// Since one scope carries many commands, the router's instance makes one
// sub-instance per command, the first time that command is used, and keeps
// it for the life of the scope; the fallback's instance is made the same
// way. A command's instance gets the scope with the parameter "command" set
// to the command's name, and finds each event's arguments with CommandArgs
// or CommandFrom. The final event goes to every sub-instance made, in the
// order they were made, so each can release what it holds. A sub-instance
// that cannot be made (its application or middleware refused the scope)
// fails the event, which ends the scope like any error from Handle.
//
// Events a sub-instance posts through its Conn come back to that same
// sub-instance, whatever their type: a command that does work on another
// goroutine, or that joined a layer group, gets the results itself.
//
// Register every command before serving scopes; a CommandRouter is not
// safe for registration concurrent with use. The zero value is a router
// without commands or fallback.
type CommandRouter struct {
	t      *commandTable
	mw     []Middleware // of this group, inside the table's
	inline bool
	used   bool
}

type commandTable struct {
	apps     map[string]scope.Application
	fallback scope.Application
	mw       []Middleware
}

// NewCommandRouter returns a command router without commands or fallback.
func NewCommandRouter() *CommandRouter { return &CommandRouter{t: &commandTable{}} }

func (r *CommandRouter) table() *commandTable {
	if r.t == nil {
		r.t = &commandTable{}
	}
	return r.t
}

// Handle registers app for a command, named with or without its "/":
// "start" and "/start" are the same. The middleware added with Use and With
// so far wraps app.
func (r *CommandRouter) Handle(command string, app scope.Application) {
	name := strings.ToLower(strings.TrimPrefix(command, "/"))
	if name == "" || strings.ContainsFunc(name, func(c rune) bool { return c == '@' || c == '/' || unicode.IsSpace(c) }) {
		panic(fmt.Sprintf("router: command %q is not a command name", command))
	}
	route := fmt.Sprintf("command %q", "/"+name)
	if app == nil {
		panic("router: nil application for " + route)
	}
	t := r.table()
	if _, dup := t.apps[name]; dup {
		panic("router: duplicate route: " + route)
	}
	if t.apps == nil {
		t.apps = make(map[string]scope.Application)
	}
	t.apps[name] = r.wrap(app, route)
	r.used = true
}

// Fallback registers the application for events that are not registered
// commands. The middleware added with Use and With so far wraps app.
func (r *CommandRouter) Fallback(app scope.Application) {
	if app == nil {
		panic("router: nil application for the command fallback")
	}
	t := r.table()
	if t.fallback != nil {
		panic("router: duplicate command fallback")
	}
	t.fallback = r.wrap(app, "the command fallback")
	r.used = true
}

func (r *CommandRouter) wrap(app scope.Application, route string) scope.Application {
	return wrap(wrap(app, r.mw, route), r.table().mw, route)
}

// Use adds middleware to the commands (and fallback) registered after it,
// the first listed outermost. On a router from NewCommandRouter it must
// come before any registration and wraps every command, the fallback and
// the commands of its groups; on a group from With it must come before the
// group's first registration and wraps the group's commands only. It
// panics otherwise, since earlier registrations would silently go without
// it.
//
// The middleware wraps each command's application, so it sees the
// sub-instance's scope and events; to wrap the whole router, wrap it:
// With(r, mw...).
func (r *CommandRouter) Use(mw ...Middleware) {
	checkMiddleware(mw)
	if !r.inline {
		t := r.table()
		if len(t.apps) > 0 || t.fallback != nil {
			panic("router: CommandRouter.Use after commands were registered")
		}
		t.mw = append(t.mw, mw...)
		return
	}
	if r.used {
		panic("router: CommandRouter.Use after commands were registered in this group")
	}
	r.mw = append(r.mw, mw...)
}

// With returns a group of r with mw added: commands registered on the group
// go into r's table, wrapped in r's middleware and then mw.
//
//	r.With(middleware.AllowUsers(admins...)).Handle("ban", ban)
func (r *CommandRouter) With(mw ...Middleware) *CommandRouter {
	checkMiddleware(mw)
	return &CommandRouter{t: r.table(), mw: append(r.mw[:len(r.mw):len(r.mw)], mw...), inline: true}
}

// NewInstance returns the instance that routes the events of s. It makes
// no sub-instance yet.
func (r *CommandRouter) NewInstance(_ context.Context, s *scope.Scope, conn scope.Conn) (scope.Instance, error) {
	t := r.t
	if t == nil {
		t = &commandTable{}
	}
	return &commandInstance{t: t, s: s, conn: conn}, nil
}
