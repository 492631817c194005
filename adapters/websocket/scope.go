package websocket

import (
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/scope"
)

// newScope builds the scope of a request. state is the *conn or *exchange
// that serves it: the scope's adapter value, for Send to find it again.
func (a *Adapter) newScope(typ string, r *http.Request, state any) *scope.Scope {
	s := &scope.Scope{
		Type:       typ,
		Adapter:    a.cfg.Name,
		Path:       r.URL.Path,
		RawQuery:   r.URL.RawQuery,
		Method:     r.Method,
		Headers:    textproto.MIMEHeader(r.Header.Clone()),
		ClientAddr: a.clientAddr(r),
	}
	if typ == TypeWebSocket {
		s.Subprotocols = gorilla.Subprotocols(r)
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		s.ServerAddr = la.String()
	}
	s.SetAdapterValue(state)
	return s
}

// clientAddr is the socket's peer, or the client a trusted proxy names in
// X-Forwarded-For: the rightmost address not itself a trusted proxy.
func (a *Adapter) clientAddr(r *http.Request) string {
	if len(a.proxies) == 0 {
		return r.RemoteAddr
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !a.trusted(peer) {
		return r.RemoteAddr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop ends what can be believed
		}
		if !a.trusted(ip) || i == 0 {
			return net.JoinHostPort(ip.Unmap().String(), "0")
		}
	}
	return r.RemoteAddr
}

func (a *Adapter) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range a.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Cookies returns the cookies of a websocket or http scope's request.
func Cookies(s *scope.Scope) []*http.Cookie {
	var out []*http.Cookie
	for _, line := range s.Headers.Values("Cookie") {
		cs, err := http.ParseCookie(line)
		if err != nil {
			continue // one malformed header must not hide the others
		}
		out = append(out, cs...)
	}
	return out
}

// Cookie returns the value of the named cookie of a scope's request.
func Cookie(s *scope.Scope, name string) (string, bool) {
	for _, c := range Cookies(s) {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}
