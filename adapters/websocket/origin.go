package websocket

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// originPolicy decides which browser pages may open WebSockets.
//
// The server's own origin is never taken from the request's Host header
// alone: a page of evil.example whose name an attacker re-points at the
// server's address (DNS rebinding) sends Host: evil.example and Origin:
// http://evil.example, which agree. The own origins are instead what the
// listener is known by: its address, "localhost" and the loopback
// addresses when it listens on loopback, and the host named in Config.Addr.
// A name the server is reached by beyond those (a public name, a reverse
// proxy) goes in AllowedOrigins.
type originPolicy struct {
	any      bool
	exact    map[string]bool // lower-case origins and hosts
	suffixes []string        // ".example.com"
}

func newOriginPolicy(allowed []string) originPolicy {
	p := originPolicy{exact: make(map[string]bool)}
	for _, o := range allowed {
		o = strings.ToLower(strings.TrimSpace(o))
		switch {
		case o == "*":
			p.any = true
		case strings.HasPrefix(o, "*."):
			p.suffixes = append(p.suffixes, o[1:])
		default:
			p.exact[strings.TrimSuffix(o, "/")] = true
		}
	}
	return p
}

// ownHosts returns the "host:port"s, lower case, the listener at addr is
// known by: addr itself unless it is a wildcard, "localhost:port" and the
// loopback addresses when it listens on loopback (a loopback address or a
// wildcard), and name (the host of Config.Addr, when the adapter listened
// on it) when it is a DNS name. A page on localhost was loaded from this
// machine's port, which is the server's; DNS rebinding cannot forge that
// origin, as it needs a name of the attacker's own.
func ownHosts(addr net.Addr, name string) map[string]bool {
	own := make(map[string]bool)
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return own
	}
	port := ap.Port()
	ip := ap.Addr().Unmap()
	hostPort := func(h string) string { return strings.ToLower(net.JoinHostPort(h, strconv.Itoa(int(port)))) }
	if ip.IsLoopback() || ip.IsUnspecified() { // a wildcard listens on loopback too
		for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
			own[hostPort(h)] = true
		}
	}
	if !ip.IsUnspecified() {
		own[hostPort(ip.String())] = true
	}
	if name != "" {
		if _, err := netip.ParseAddr(name); err != nil { // a DNS name; addresses are covered above
			own[hostPort(name)] = true
		}
	}
	return own
}

// allow reports whether r's Origin may connect: one of own (see ownHosts),
// an allowed origin, or an IP-address origin equal to the request's Host.
// The last is the server's own too, whatever interface it listens on: a
// page whose origin is an address was loaded from that address, and DNS
// rebinding cannot forge one. A request without Origin does not come from
// a browser page, so the check, which protects browser users, does not
// apply.
func (p originPolicy) allow(r *http.Request, own map[string]bool) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || p.any {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Host)
	if u.Port() == "" {
		switch u.Scheme {
		case "http", "ws":
			host = net.JoinHostPort(strings.ToLower(u.Hostname()), "80")
		case "https", "wss":
			host = net.JoinHostPort(strings.ToLower(u.Hostname()), "443")
		}
	}
	if own[host] {
		return true
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	if p.exact[strings.ToLower(origin)] || p.exact[strings.ToLower(u.Host)] || p.exact[strings.ToLower(u.Hostname())] {
		return true
	}
	name := strings.ToLower(u.Hostname())
	for _, s := range p.suffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}
