// Package xmpptest starts a real XMPP server (Debian's prosody) for tests,
// on a free loopback port with a generated config, a self-signed
// certificate and a data directory of the test's own, and speaks to it as
// a user would. A test skips, saying so, where prosody is not installed.
package xmpptest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/internal/certtest"
	"github.com/switchboard-bots/switchboard/internal/porttest"
)

// Domain and MUC are the server's host and its multi-user chat service.
const (
	Domain = "xmpp.test"
	MUC    = "rooms.xmpp.test"
)

// Server is a prosody of the test's own.
type Server struct {
	t      testing.TB
	bin    string
	dir    string
	conf   string
	addr   string
	caFile string
	cmd    *exec.Cmd
	exited chan struct{}
}

// Option changes the server's config.
type Option func(*options)

type options struct{ plain bool }

// WithoutTLS makes a server that offers no STARTTLS and takes passwords
// in clear, as no server should.
func WithoutTLS() Option { return func(o *options) { o.plain = true } }

// Start writes a config into a temp dir and starts prosody in the
// foreground, stopped when the test ends. Its c2s listener requires
// STARTTLS; its MUC service is MUC.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin, err := exec.LookPath("prosody")
	if err != nil {
		t.Skip("prosody is not installed (apt-get install prosody); the XMPP adapter tests need a real server")
	}
	dir := t.TempDir()
	s := &Server{t: t, bin: bin, dir: dir, addr: porttest.Addr(t)}
	s.caFile = certtest.Write(t, dir, Domain, Domain, MUC)
	s.conf = filepath.Join(dir, "prosody.cfg.lua")
	_, port, _ := net.SplitHostPort(s.addr)
	conf := fmt.Sprintf(`-- generated for a test
run_as_root = true
pidfile = %[1]q
data_path = %[2]q
certificates = %[3]q
interfaces = { "127.0.0.1" }
c2s_ports = { %[4]s }
c2s_direct_tls_ports = {}
legacy_ssl_ports = {}
s2s_ports = {}
log = { { levels = { min = "info" }, to = "console" } }
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "posix", "blocklist", "offline" }
modules_disabled = { "s2s" }
authentication = "internal_hashed"
c2s_require_encryption = true
allow_unencrypted_plain_auth = false
storage = "internal"
VirtualHost %[5]q
  ssl = { certificate = %[6]q, key = %[7]q }
Component %[8]q "muc"
  ssl = { certificate = %[6]q, key = %[7]q }
  muc_room_locking = false
  muc_room_default_history_length = 20
`, filepath.Join(dir, "prosody.pid"), filepath.Join(dir, "data"), dir, port, Domain,
		filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), MUC)
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.plain {
		conf = strings.NewReplacer(`"tls", `, "", "c2s_require_encryption = true", "c2s_require_encryption = false",
			"allow_unencrypted_plain_auth = false", "allow_unencrypted_plain_auth = true").Replace(conf)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "prosody.log"))
			t.Logf("prosody log:\n%s", log)
		}
	})
	return s
}

// Addr returns the c2s listener's host:port.
func (s *Server) Addr() string { return s.addr }

// Log returns what the server logged so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "prosody.log"))
	return string(b)
}

// CAFile returns the PEM file of the server's self-signed certificate.
func (s *Server) CAFile() string { return s.caFile }

// Register creates the account user@Domain with password, through
// prosodyctl, and returns its JID.
func (s *Server) Register(user, password string) string {
	s.t.Helper()
	out, err := exec.Command("prosodyctl", "--config", s.conf, "register", user, Domain, password).CombinedOutput()
	if err != nil {
		s.t.Fatalf("prosodyctl register %s: %v\n%s", user, err, out)
	}
	return user + "@" + Domain
}

// Kill stops the server with SIGKILL, as a crash would: every
// connection drops at once and it says goodbye to none.
func (s *Server) Kill() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatal(err)
	}
	<-s.exited
}

// Restart starts the server again after Kill, on the same port and data.
func (s *Server) Restart() {
	s.t.Helper()
	s.start()
}

func (s *Server) start() {
	s.t.Helper()
	log, err := os.OpenFile(filepath.Join(s.dir, "prosody.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.bin, "--config", s.conf, "-F")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", s.addr)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(filepath.Join(s.dir, "prosody.log"))
			s.t.Fatalf("prosody exited at start:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("prosody did not listen on %s: %v", s.addr, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a port that has no event to await
	}
}

func (s *Server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}
