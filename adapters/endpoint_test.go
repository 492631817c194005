package adapters_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard-bots/switchboard/adapters"
)

func TestEndpointInlineKeys(t *testing.T) {
	var cfg struct {
		adapters.Endpoint `yaml:",inline"`
		Nick              string `yaml:"nick"`
	}
	if err := yaml.Unmarshal([]byte("server: irc.example.org:6697\nca_file: /etc/ca.pem\nnick: bot\n"), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Server != "irc.example.org:6697" || cfg.CAFile != "/etc/ca.pem" || cfg.Nick != "bot" {
		t.Fatalf("decoded %+v", cfg)
	}
}

func TestEndpointCheckServer(t *testing.T) {
	for server, ok := range map[string]bool{"irc.example.org:6697": true, "[::1]:5222": true, "nohost": false, "": false} {
		err := adapters.Endpoint{Server: server}.CheckServer()
		if (err == nil) != ok || (err != nil && !strings.Contains(err.Error(), "server must be host:port")) {
			t.Errorf("CheckServer(%q): %v", server, err)
		}
	}
}

func TestEndpointTLSConfigServerName(t *testing.T) {
	e := adapters.Endpoint{Server: "irc.example.org:6697"}
	for name, want := range map[string]string{"": "irc.example.org", "example.org": "example.org"} {
		tc, err := e.TLSConfig(name)
		if err != nil || tc.ServerName != want {
			t.Errorf("TLSConfig(%q): %+v, %v; want the server name %q", name, tc, err, want)
		}
	}
	if _, err := (adapters.Endpoint{Server: "h:1", CAFile: "/nonexistent/ca.pem"}).TLSConfig(""); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("TLSConfig with a missing ca_file: %v", err)
	}
}

func TestEndpointDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	e := adapters.Endpoint{Server: ln.Addr().String()}
	c, err := e.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Dial(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial with an ended context: %v, want context.Canceled", err)
	}
}
