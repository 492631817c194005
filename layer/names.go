package layer

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/event"
)

// MaxNameLength bounds channel and group names: a valid name is shorter.
const MaxNameLength = 100

// randomLen is the length of the random part of a NewChannelName: 12 random
// bytes in URL-safe base64, whose alphabet is all valid name characters.
const randomLen = 16

// nameChars marks the bytes allowed in a name besides the one "!" of a
// process-local channel: ASCII letters, digits, '-', '_' and '.'.
var nameChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.'
	}
	return t
}()

// nameError is an invalid name with the reason it was refused.
type nameError struct {
	kind, name, reason string
}

func (e *nameError) Error() string {
	return fmt.Sprintf("layer: invalid %s name %q: %s", e.kind, e.name, e.reason)
}

func (e *nameError) Unwrap() error { return ErrInvalidName }

// ValidChannelName reports whether name is a valid channel name: ASCII
// letters, digits, '-', '_' and '.', at least one of them before an
// optional single '!' that marks a process-local channel, and shorter than
// MaxNameLength. The error wraps ErrInvalidName.
func ValidChannelName(name string) error {
	return checkName("channel", name, true)
}

// ValidGroupName reports whether name is a valid group name: like a
// channel name, but without '!'. The error wraps ErrInvalidName.
func ValidGroupName(name string) error {
	return checkName("group", name, false)
}

func checkName(kind, name string, bang bool) error {
	switch {
	case name == "":
		return &nameError{kind, name, "empty"}
	case len(name) >= MaxNameLength:
		return &nameError{kind, name, fmt.Sprintf("%d characters, must be fewer than %d", len(name), MaxNameLength)}
	}
	seen := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if nameChars[c] {
			continue
		}
		if c != '!' || !bang {
			return &nameError{kind, name, fmt.Sprintf("character %q at offset %d is not allowed", c, i)}
		}
		if seen {
			return &nameError{kind, name, "more than one '!'"}
		}
		if i == 0 {
			return &nameError{kind, name, "nothing before '!'"}
		}
		seen = true
	}
	return nil
}

// ValidEvent reports whether ev can be sent: it must not be nil and must
// have a type. The error is event.ErrNoType.
func ValidEvent(ev event.Event) error {
	if ev == nil || ev.Type() == "" {
		return event.ErrNoType
	}
	return nil
}

// NewChannelName returns prefix followed by "!" and 16 random characters,
// the process-local name NewChannel hands out. prefix follows the group
// name rules and leaves room for the suffix. Backends that route by
// process put their own marker into prefix before calling it.
func NewChannelName(prefix string) (string, error) {
	if err := checkName("channel prefix", prefix, false); err != nil {
		return "", err
	}
	if len(prefix)+1+randomLen >= MaxNameLength {
		return "", &nameError{"channel prefix", prefix,
			fmt.Sprintf("%d characters, must be fewer than %d", len(prefix), MaxNameLength-1-randomLen)}
	}
	var b [randomLen * 3 / 4]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand crashes the program rather than return an error
	var sb strings.Builder
	sb.Grow(len(prefix) + 1 + randomLen)
	sb.WriteString(prefix)
	sb.WriteByte('!')
	sb.WriteString(base64.RawURLEncoding.EncodeToString(b[:]))
	return sb.String(), nil
}
