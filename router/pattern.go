package router

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// A pattern is parsed once, at registration, into segments that match the
// route path without allocating: the path is walked in place and captures
// are substrings of it.
type pattern struct {
	text  string    // as registered, for messages
	key   string    // canonical form: equal keys match the same paths
	segs  []segment // one per "/"-separated part, the wildcard excluded
	names []string  // capture names, in order
	wild  bool      // ends in "*": matches any rest of the path
}

type segment struct {
	lit     string         // the exact text, when capture is false
	capture bool           // matches one non-empty segment, or re when set
	re      *regexp.Regexp // anchored to the whole segment
}

// maxInline is how many captures a match keeps on the stack; a pattern
// with more still works, at the cost of an allocation.
const maxInline = 8

func parsePattern(text string) *pattern {
	p := &pattern{text: text}
	bad := func(format string, args ...any) {
		panic(fmt.Sprintf("router: pattern %q: ", text) + fmt.Sprintf(format, args...))
	}
	var keys []string
	s := strings.TrimPrefix(text, "/")
	for {
		var part string
		if strings.HasPrefix(s, "{") {
			end := closingBrace(s)
			if end < 0 {
				bad("unclosed {")
			}
			part, s = s[:end+1], s[end+1:]
			if s != "" && s[0] != '/' {
				bad("a capture must be a whole segment, found %q after %s", s, part)
			}
			seg, name, key := parseCapture(part, bad)
			if slices.Contains(p.names, name) {
				bad("capture {%s} appears twice", name)
			}
			p.names = append(p.names, name)
			p.segs = append(p.segs, seg)
			keys = append(keys, key)
		} else {
			if j := strings.IndexByte(s, '/'); j >= 0 {
				part, s = s[:j], s[j:]
			} else {
				part, s = s, ""
			}
			switch {
			case part == "*":
				if s != "" {
					bad("* must be the last segment")
				}
				p.wild = true
			case strings.ContainsAny(part, "{}"):
				bad("a capture must be a whole segment, found %q", part)
			case strings.Contains(part, "*"):
				bad("* must be a whole segment, found %q", part)
			default:
				p.segs = append(p.segs, segment{lit: part})
			}
			keys = append(keys, part)
		}
		if s == "" {
			break
		}
		// Drop the separator. What follows may be empty: a trailing
		// slash is a segment of its own, the empty one.
		s = s[1:]
	}
	p.key = strings.Join(keys, "/")
	return p
}

// closingBrace returns the index of the "}" closing the "{" at s[0],
// counting nested braces of regexp repetitions such as {2,3} and skipping
// escaped characters, or -1.
func closingBrace(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func parseCapture(part string, bad func(string, ...any)) (seg segment, name, key string) {
	inner := part[1 : len(part)-1]
	name, expr, hasRe := strings.Cut(inner, ":")
	if name == "" {
		bad("capture %s has no name", part)
	}
	if strings.ContainsAny(name, "/{}*") {
		bad("capture name %q is not a name", name)
	}
	seg.capture = true
	if !hasRe {
		return seg, name, "{}"
	}
	if expr == "" {
		bad("capture {%s} has an empty regexp", name)
	}
	re, err := regexp.Compile("^(?:" + expr + ")$")
	if err != nil {
		bad("capture {%s}: %v", name, err)
	}
	seg.re = re
	return seg, name, "{:" + expr + "}"
}

// match reports whether path (the route path with any leading "/" removed)
// matches p. It appends the captured values to caps and, for a wildcard
// pattern, returns the rest of the path from the "/" that ends the matched
// prefix ("" when the path ends there). whole is the route path as the
// router got it: a bare "*" hands it on unchanged.
func (p *pattern) match(path, whole string, caps []string) (_ []string, rest string, ok bool) {
	if len(p.segs) == 0 && p.wild {
		return caps, whole, true
	}
	i, end := 0, false // i: start of the next segment in path
	for k := range p.segs {
		if end {
			return caps, "", false
		}
		var part string
		if j := strings.IndexByte(path[i:], '/'); j >= 0 {
			part, i = path[i:i+j], i+j+1
		} else {
			part, i, end = path[i:], len(path), true
		}
		sg := &p.segs[k]
		switch {
		case !sg.capture:
			if part != sg.lit {
				return caps, "", false
			}
		case sg.re != nil:
			if !sg.re.MatchString(part) {
				return caps, "", false
			}
			caps = append(caps, part)
		default:
			if part == "" {
				return caps, "", false
			}
			caps = append(caps, part)
		}
	}
	if p.wild {
		if end {
			return caps, "", true
		}
		return caps, path[i-1:], true
	}
	return caps, "", end
}
