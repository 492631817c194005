package adapters

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// DialTimeout bounds Endpoint.Dial, besides its context: a server that
// neither accepts nor refuses within it is tried again later.
const DialTimeout = 30 * time.Second

// Endpoint is the server that a client adapter (IRC, XMPP) connects to,
// embedded inline in its config section so that every such section reads
// the keys server and ca_file the same way.
type Endpoint struct {
	// Server is the server's host:port.
	Server string `yaml:"server"`
	// CAFile is a PEM file of certificates to trust as well as the
	// system's: a private server's own CA or self-signed certificate.
	CAFile string `yaml:"ca_file"`
}

// CheckServer returns an error unless Server is host:port.
func (e Endpoint) CheckServer() error {
	if _, _, err := net.SplitHostPort(e.Server); err != nil {
		return fmt.Errorf("server must be host:port, got %q", e.Server)
	}
	return nil
}

// TLSConfig returns the configuration of a TLS connection to serverName,
// or to Server's host if serverName is empty, trusting CAFile as well
// (see ClientTLS). It reads CAFile: call it when the adapter is built, so
// that a bad file is a config error.
func (e Endpoint) TLSConfig(serverName string) (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(e.Server)
	return ClientTLS(cmp.Or(serverName, host), e.CAFile)
}

// Dial connects to Server over TCP, giving up when ctx ends or after
// DialTimeout.
func (e Endpoint) Dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: DialTimeout}
	return d.DialContext(ctx, "tcp", e.Server)
}
