package adapters_test

import (
	"crypto/tls"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters"
)

func TestClientTLSTrustsCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, block, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.URL, "https://")

	without, err := adapters.ClientTLS("example.com", "")
	if err != nil || without.MinVersion != tls.VersionTLS12 || without.ServerName != "example.com" {
		t.Fatalf("without ca_file: %+v, %v", without, err)
	}
	if c, err := tls.Dial("tcp", addr, without); err == nil {
		c.Close()
		t.Fatal("a self-signed server was trusted without ca_file")
	}
	with, err := adapters.ClientTLS("example.com", ca)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", addr, with)
	if err != nil {
		t.Fatalf("the server of ca_file was not trusted: %v", err)
	}
	c.Close()
}

func TestClientTLSBadCAFile(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{notPEM: "holds no PEM certificate", "/nonexistent/ca.pem": "ca_file"} {
		if _, err := adapters.ClientTLS("h", file); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ClientTLS(%q): %v, want an error saying %q", file, err, want)
		}
	}
}
