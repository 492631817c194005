package scope

import "net/textproto"

// Scope holds the facts of one connection or conversation, fixed when it
// starts. Adapters fill the fields that apply to their protocol and leave
// the others empty. A Scope is never modified once an application has seen
// it: routers and middleware that add route parameters or values derive a
// new Scope with WithParam and WithValue, so one instance never observes
// another's changes.
type Scope struct {
	// Type is the protocol: "websocket", "http", "telegram", "slack",
	// "channel" (a worker serving a named layer channel), or an added
	// adapter's own name. Protocol routers switch on it.
	Type string
	// Adapter names the adapter instance that created the scope, so that a
	// server running two Telegram bots can tell their scopes apart.
	Adapter string
	// Key is the conversation key the scope manager files the scope under:
	// unique among the adapter's live scopes.
	Key string

	// User is who is on the other side: the sender of a chat message, the
	// authenticated user of a connection (when middleware set it).
	User User
	// Bot is the bot's own identity on the platform, when it has one.
	Bot User
	// Chat is the chat, channel or group the conversation happens in.
	Chat Chat
	// Thread identifies a thread or forum topic inside Chat, if any.
	Thread string
	// Team is the workspace the chat belongs to (a Slack team), when the
	// platform has one.
	Team string

	// Channel is the layer channel a worker scope serves.
	Channel string

	// Path is the request path of a WebSocket or HTTP scope, without the
	// query string; RawQuery holds the query string without "?".
	Path     string
	RawQuery string
	// Method is the HTTP method of an HTTP scope.
	Method string
	// Headers holds the request headers, keyed by canonical name.
	Headers textproto.MIMEHeader
	// Subprotocols lists the WebSocket subprotocols the client offered.
	Subprotocols []string
	// ClientAddr and ServerAddr are the socket's peer and local addresses
	// ("host:port"). ClientAddr is the socket peer unless the adapter is
	// configured to trust a proxy header.
	ClientAddr string
	ServerAddr string

	// routed is set once a path router consumed part of Path; rest is what
	// is left for nested routers.
	routed bool
	rest   string
	params []param
	values *value
	// own is the adapter's own per-scope value; see SetAdapterValue.
	own any
}

// SetAdapterValue stores the adapter's own value for this scope (its
// connection, the platform's ids for the chat), for its Send to find again
// with AdapterValue. Adapters call it while building the Scope, before
// any application sees it. Applications never need it.
func (s *Scope) SetAdapterValue(v any) { s.own = v }

// AdapterValue returns the value set with SetAdapterValue, or nil. Scopes
// derived with WithParam and WithValue share it.
func (s *Scope) AdapterValue() any { return s.own }

// User identifies a person or bot on a platform.
type User struct {
	ID       string
	Name     string // display name
	Username string // handle, without "@"
	Language string // IETF language tag, when the platform tells
}

// Chat identifies the chat, channel or group of a conversation.
type Chat struct {
	ID    string
	Type  string // platform's kind: "private", "group", "channel", "im", ...
	Title string
}

type param struct{ key, value string }

// value is an immutable linked list, like context.Context's values: adding
// one never copies the others and never changes what a parent scope sees.
type value struct {
	key, val any
	next     *value
}

// clone returns a shallow copy of s; slices are shared but never appended to
// in place because params is always copied on write.
func (s *Scope) clone() *Scope {
	c := *s
	return &c
}

// Param returns the route parameter captured under name, or "" when there
// is none. When nested routers capture the same name, the innermost wins.
func (s *Scope) Param(name string) string {
	for i := len(s.params) - 1; i >= 0; i-- {
		if s.params[i].key == name {
			return s.params[i].value
		}
	}
	return ""
}

// Params returns the captured route parameters in capture order.
func (s *Scope) Params() map[string]string {
	m := make(map[string]string, len(s.params))
	for _, p := range s.params {
		m[p.key] = p.value
	}
	return m
}

// WithParam returns a copy of s with one more route parameter.
func (s *Scope) WithParam(name, val string) *Scope {
	c := s.clone()
	c.params = append(s.params[:len(s.params):len(s.params)], param{name, val})
	return c
}

// WithValue returns a copy of s carrying val under key. Keys should be
// unexported pointer or struct types of the package that sets them, as with
// context.WithValue, so that packages never collide.
func (s *Scope) WithValue(key, val any) *Scope {
	c := s.clone()
	c.values = &value{key: key, val: val, next: s.values}
	return c
}

// Value returns the value stored under key by WithValue, or nil.
func (s *Scope) Value(key any) any {
	for v := s.values; v != nil; v = v.next {
		if v.key == key {
			return v.val
		}
	}
	return nil
}

// RoutePath returns the part of Path that path routers have not consumed
// yet: Path itself until a router matched a prefix.
func (s *Scope) RoutePath() string {
	if s.routed {
		return s.rest
	}
	return s.Path
}

// WithRoutePath returns a copy of s whose RoutePath is rest. Path routers
// call it when they hand the remainder of a path to a nested router.
func (s *Scope) WithRoutePath(rest string) *Scope {
	c := s.clone()
	c.routed, c.rest = true, rest
	return c
}

// String identifies the scope in logs: protocol, adapter and key.
func (s *Scope) String() string {
	if s.Adapter != "" && s.Adapter != s.Type {
		return s.Type + "/" + s.Adapter + ":" + s.Key
	}
	return s.Type + ":" + s.Key
}
