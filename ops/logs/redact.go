package logs

import (
	"regexp"
	"slices"
	"strings"
)

// Masked replaces a secret in redacted text.
const Masked = "[redacted]"

var (
	// urlCreds matches a URL's scheme and userinfo, up to the last "@"
	// before the host: a password may hold characters that do not parse
	// (an unescaped "%" or "@"), and it must be masked all the same.
	urlCreds = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)([^\s"'/@]*(?:@[^\s"'/@]*)*)@`)
	// botToken is the shape of a Telegram bot token: the bot's id, a
	// colon, and at least 30 characters of the key.
	botToken = regexp.MustCompile(`\d+:[A-Za-z0-9_-]{30,}`)
)

// Redactor masks secrets in text. The zero Redactor masks URL passwords
// and Telegram bot tokens; With adds known secret values.
type Redactor struct {
	secrets []string // longest first, so that a secret containing another is masked whole
}

// minSecret is the shortest value With accepts as a secret: masking every
// "on" or "1" in a log would hide more than it protects.
const minSecret = 6

// With returns a Redactor that also masks each of secrets wherever it
// appears. Values shorter than six characters are ignored.
func (r Redactor) With(secrets ...string) Redactor {
	out := slices.Clone(r.secrets)
	for _, s := range secrets {
		if len(s) >= minSecret && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return Redactor{secrets: out}
}

// String returns s with its secrets masked.
func (r Redactor) String(s string) string {
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Masked)
		}
	}
	if strings.Contains(s, "://") {
		s = urlCreds.ReplaceAllStringFunc(s, maskUserinfo)
	}
	if strings.IndexByte(s, ':') >= 0 {
		s = botToken.ReplaceAllString(s, Masked)
	}
	return s
}

// maskUserinfo masks the password of "scheme://user:password@", or the
// whole userinfo when it has no user part ("redis://:pw@", or a bare
// token as user).
func maskUserinfo(m string) string {
	i := strings.Index(m, "://") + 3
	info := m[i : len(m)-1]
	if user, _, ok := strings.Cut(info, ":"); ok && user != "" {
		return m[:i] + user + ":" + Masked + "@"
	}
	return m[:i] + Masked + "@"
}
