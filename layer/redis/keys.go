package redis

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// keys builds Redis keys the way channels_redis does: a channel's messages
// live in the sorted set prefix+name, where the name of a process-local
// channel is cut after its "!", so that one key holds the messages of all
// the channels a process made with one prefix; a group is the sorted set
// prefix+":group:"+name. In cluster mode the name part is a hash tag, so
// that anything a script later keeps beside a key shares its slot.
type keys struct {
	prefix string
	tagged bool
}

// nonLocal returns the part of channel that names its Redis key: up to
// and including the "!" of a process-local channel, else all of it.
func nonLocal(channel string) string {
	if i := strings.IndexByte(channel, '!'); i >= 0 {
		return channel[:i+1]
	}
	return channel
}

func (k keys) channel(channel string) string {
	if k.tagged {
		return k.prefix + "{" + nonLocal(channel) + "}"
	}
	return k.prefix + nonLocal(channel)
}

func (k keys) group(group string) string {
	if k.tagged {
		return k.prefix + ":group:{" + group + "}"
	}
	return k.prefix + ":group:" + group
}

// capacityArgs renders the capacity rules of layer.Config for the group
// send script, which must find each member's capacity inside Redis: the
// patterns as anchored Lua patterns, in the order layer.Config.CapacityFor
// tries them, each followed by its capacity.
func capacityArgs(patterns map[string]int) []any {
	// A key without glob characters can only match a channel of that very
	// name, so the exact-name rule is kept by trying those first; then the
	// longest pattern wins and, among equals, the one that sorts first.
	order := slices.SortedFunc(maps.Keys(patterns), func(a, b string) int {
		ga, gb := strings.ContainsAny(a, `*?[\`), strings.ContainsAny(b, `*?[\`)
		switch {
		case ga != gb && !ga:
			return -1
		case ga != gb:
			return 1
		}
		if c := cmp.Compare(len(b), len(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	args := make([]any, 0, 2*len(order))
	for _, p := range order {
		args = append(args, globToLua(p), strconv.Itoa(patterns[p]))
	}
	return args
}

// globToLua translates a path.Match pattern into an anchored Lua pattern.
// Names have no "/", so "*" may match anything.
func globToLua(glob string) string {
	var b strings.Builder
	b.WriteByte('^')
	inClass := false
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case c == '\\' && i+1 < len(glob):
			i++
			b.WriteString(luaLiteral(glob[i]))
		case inClass && c == ']':
			inClass = false
			b.WriteByte(']')
		case inClass && (c == '-' || c == '^' && glob[i-1] == '['):
			b.WriteByte(c)
		case inClass:
			b.WriteString(luaLiteral(c))
		case c == '[':
			inClass = true
			b.WriteByte('[')
		case c == '*':
			b.WriteString(".*")
		case c == '?':
			b.WriteByte('.')
		default:
			b.WriteString(luaLiteral(c))
		}
	}
	b.WriteByte('$')
	return b.String()
}

// luaLiteral escapes c for a Lua pattern: "%" before punctuation, never
// before a letter or digit, where it would name a character class.
func luaLiteral(c byte) string {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80 {
		return string(c)
	}
	return "%" + string(c)
}
