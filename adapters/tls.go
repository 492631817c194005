package adapters

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// ClientTLS returns the TLS configuration of an adapter's connection to
// serverName: TLS 1.2 or later, trusting the system's roots and, unless
// caFile is empty, the PEM certificates in caFile as well (a private
// server's own CA or self-signed certificate), so that every adapter
// reads the ca_file setting the same way.
func ClientTLS(serverName, caFile string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	if tc.RootCAs, err = x509.SystemCertPool(); err != nil {
		tc.RootCAs = x509.NewCertPool()
	}
	if !tc.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s holds no PEM certificate", caFile)
	}
	return tc, nil
}
