// Package irctest starts a real IRC server (Debian's ngircd) for tests,
// on a free loopback port with a generated config, and speaks to it as a
// user would; StartTLS adds a TLS port with a self-signed certificate. A
// test skips, saying so, where ngircd is not installed.
package irctest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ergochat/irc-go/ircmsg"

	"github.com/switchboard-bots/switchboard/internal/certtest"
	"github.com/switchboard-bots/switchboard/internal/porttest"
)

// Oper credentials of every test server: the test client opers up to
// KILL the bot. The servers hold no client back (MaxPenaltyTime = 0), so
// that tests do not wait a second a command; the bot's own flood control
// is tested on a clock of the test's.
const operName, operPass = "op", "oppass"

// Server is an ngircd of the test's own, on a free loopback port.
type Server struct{ addr, tlsAddr, caFile string }

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.addr }

// TLSAddr returns the host:port of the server's TLS port (StartTLS).
func (s *Server) TLSAddr() string { return s.tlsAddr }

// CAFile returns the PEM file of the TLS port's self-signed certificate,
// for 127.0.0.1 (StartTLS).
func (s *Server) CAFile() string { return s.caFile }

// Start starts ngircd in the foreground with a generated config in
// a temp dir, killed when the test ends. password sets a server PASS.
func Start(t testing.TB, password string) *Server {
	t.Helper()
	return start(t, password, false)
}

// StartTLS is Start with a TLS port as well, whose certificate is
// self-signed (CAFile).
func StartTLS(t testing.TB) *Server {
	t.Helper()
	return start(t, "", true)
}

func start(t testing.TB, password string, withTLS bool) *Server {
	t.Helper()
	bin, err := exec.LookPath("ngircd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/ngircd", "/usr/local/sbin/ngircd"} {
			if _, err2 := os.Stat(p); err2 == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Skip("ngircd is not installed (apt-get install ngircd); the IRC adapter tests need a real server")
	}
	port, dir, srv := porttest.Port(t), t.TempDir(), &Server{}
	ssl := ""
	if withTLS {
		tlsPort := porttest.Port(t)
		srv.tlsAddr, srv.caFile = fmt.Sprintf("127.0.0.1:%d", tlsPort), certtest.Write(t, dir, "irc.test", "127.0.0.1")
		ssl = fmt.Sprintf("[SSL]\nPorts = %d\nCertFile = %s\nKeyFile = %s\n", tlsPort, srv.caFile, filepath.Join(dir, "key.pem"))
	}
	conf := fmt.Sprintf(`[Global]
Name = irc.test
Info = test server
Listen = 127.0.0.1
Ports = %d
MotdPhrase = test
PidFile = %s
Password = %s
ServerUID = %d
ServerGID = %d
[Limits]
PingTimeout = 120
PongTimeout = 20
MaxNickLength = 30
MaxPenaltyTime = 0
[Options]
DNS = no
Ident = no
PAM = no
[Operator]
Name = %s
Password = %s
%s`, port, filepath.Join(dir, "ngircd.pid"), password, os.Getuid(), os.Getgid(), operName, operPass, ssl)
	path := filepath.Join(dir, "ngircd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--nodaemon", "--config", path)
	out, err := os.Create(filepath.Join(dir, "ngircd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		out.Close()
		if t.Failed() {
			log, _ := os.ReadFile(out.Name())
			t.Logf("ngircd log:\n%s", log)
		}
	})
	srv.addr = fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(5 * time.Second)
	for _, addr := range []string{srv.addr, srv.tlsAddr} {
		for addr != "" {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ngircd did not listen on %s: %v", addr, err)
			}
			time.Sleep(20 * time.Millisecond) // polling a port that has no event to await
		}
	}
	return srv
}

// Client is a user of the test server, speaking raw IRC.
type Client struct {
	t     testing.TB
	nick  string
	conn  net.Conn
	lines chan Line
}

// Line is one line from the server, parsed, with its raw form.
type Line struct {
	ircmsg.Message
	Raw string
}

// Dial connects a user called nick, opered up and exempt from the
// server's throttling (user mode F), and joined to channels.
func (s *Server) Dial(t testing.TB, nick string, channels ...string) *Client {
	t.Helper()
	nc, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{t: t, nick: nick, conn: nc, lines: make(chan Line, 1000)}
	t.Cleanup(func() { nc.Close() })
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(nc)
		for sc.Scan() {
			raw := strings.TrimRight(sc.Text(), "\r")
			m, err := ircmsg.ParseLine(raw)
			if err != nil {
				continue
			}
			if m.Command == "PING" {
				fmt.Fprintf(nc, "PONG :%s\r\n", m.Params[0])
				continue
			}
			c.lines <- Line{m, raw}
		}
	}()
	c.Send("NICK " + nick)
	c.Send("USER " + nick + " 0 * :" + nick)
	c.Expect("001")
	c.Send("OPER " + operName + " " + operPass)
	c.Expect("381")
	for _, ch := range channels {
		c.Send("JOIN " + ch)
		c.Expect("366")
	}
	return c
}

// Send sends one raw line.
func (c *Client) Send(l string) {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.conn, "%s\r\n", l); err != nil {
		c.t.Fatal(err)
	}
}

// Expect returns the next line of the given commands, skipping others,
// and fails the test after 10 s.
func (c *Client) Expect(commands ...string) Line {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("%s: connection closed while waiting for %v", c.nick, commands)
			}
			for _, cmd := range commands {
				if l.Command == cmd {
					return l
				}
			}
		case <-timeout:
			c.t.Fatalf("%s: no %v within 10s", c.nick, commands)
		}
	}
}

// FromBot returns the next line of command sent by the bot called bot.
func (c *Client) FromBot(bot, command string) Line {
	c.t.Helper()
	for {
		if l := c.Expect(command); strings.EqualFold(l.Nick(), bot) {
			return l
		}
	}
}

// TryNext returns a line already received, if there is one.
func (c *Client) TryNext() (Line, bool) {
	select {
	case l := <-c.lines:
		return l, true
	default:
		return Line{}, false
	}
}
