package main_test

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"
)

// check warns about the admin console on a route anyone can reach, and
// passes; behind a token it says nothing.
func TestCheckWarnsAboutAnOpenAdminRoute(t *testing.T) {
	t.Parallel()
	open := writeConfig(t, `
websocket: {addr: "127.0.0.1:0"}
routes:
  websocket:
    paths:
      - {path: /chat/admin/, bot: admin, middleware: [logger]}
`)
	out, err := exec.Command(binary, "check", "-config", open).CombinedOutput()
	if err != nil {
		t.Fatalf("an open admin route is a warning, not an error: %v\n%s", err, out)
	}
	want := open + `:6: routes.websocket.paths[0].bot: warning: an operator's bot on an open route: bot "admin" serves anyone who reaches routes.websocket.paths[0]; add a guard to its middleware (allow_users, token)`
	if !strings.Contains(string(out), want) {
		t.Fatalf("check said:\n%s\nwant the line:\n%s", out, want)
	}
	guarded := writeConfig(t, `
websocket: {addr: "127.0.0.1:0"}
routes:
  websocket:
    paths:
      - {path: /chat/admin/, bot: admin, middleware: [{token: s3cret}]}
`)
	out, err = exec.Command(binary, "check", "-config", guarded).CombinedOutput()
	if err != nil || strings.Contains(string(out), "warning") {
		t.Fatalf("behind a token: %v\n%s", err, out)
	}
}

// The example config's admin console refuses a client without the token
// and serves one with it; the chat page's favicon is served, and the page
// load logs no refusal.
func TestExampleAdminNeedsTheTokenAndFaviconIsServed(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, `
websocket: {addr: "127.0.0.1:0", page_path: /, page_socket: /chat/}
routes:
  websocket:
    paths:
      - {path: /chat/admin/, bot: admin, middleware: [logger, {token: "${ADMIN_TOKEN:-}"}]}
      - {path: /chat/, bot: wschat}
`)
	cmd := exec.Command(binary, "-config", cfg)
	cmd.Env = append(cmd.Environ(), "ADMIN_TOKEN=letmein")
	logs := watchLogs(t, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, _ := logs.await(t, 0, "listening on ")
	if !strings.Contains(line, "in a browser") {
		t.Fatalf("with a page the banner says where to open it: %s", line)
	}
	addr := listening.FindStringSubmatch(line)[1]

	for _, path := range []string{"/", "/favicon.ico"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if path == "/favicon.ico" && resp.Header.Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("favicon: %s", resp.Header.Get("Content-Type"))
		}
	}

	if c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/chat/admin/", nil); err == nil {
		_, msg, err := c.ReadMessage()
		c.Close()
		if err == nil {
			t.Fatalf("the admin console answered %q without the token", msg)
		}
	}
	if c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/chat/admin/?token=wrong", nil); err == nil {
		_, msg, err := c.ReadMessage()
		c.Close()
		if err == nil {
			t.Fatalf("the admin console answered %q to a wrong token", msg)
		}
	}
	c := wsDial(t, addr, "/chat/admin/?token=letmein")
	if err := c.WriteMessage(gorilla.TextMessage, []byte("/announce hello")); err != nil {
		t.Fatal(err)
	}
	if got := wsRead(t, c); got == "" {
		t.Fatal("the admin console said nothing with the token")
	}
	if n := logs.count("favicon"); n != 0 {
		t.Fatalf("the favicon request was logged %d times", n)
	}
	if n := logs.count("letmein"); n != 0 {
		t.Fatalf("the token was logged %d times", n)
	}
}

// Without a page the banner does not send anyone to a browser.
func TestBannerWithoutAPage(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, `
websocket: {addr: "127.0.0.1:0"}
routes:
  websocket: {bot: wschat}
`)
	cmd := exec.Command(binary, "-config", cfg)
	logs := watchLogs(t, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, _ := logs.await(t, 0, "listening on "); strings.Contains(line, "browser") {
		t.Fatalf("no page, yet: %s", line)
	}
}
