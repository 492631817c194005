package playground

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard-bots/switchboard/server"
)

// DefaultAddr is where the playground's page listens.
const DefaultAddr = "127.0.0.1:8090"

// Usage is the playground command's usage.
const Usage = `usage: botserver playground [-config FILE] [-addr ADDR]

Runs the bots of FILE (default: the web chat page, and echo on Telegram and
Slack) with Telegram and Slack pointed at local stand-ins, and serves a
page at ADDR (default ` + DefaultAddr + `) where you chat with them as a
Telegram user, a Slack user and a web user. Stop it with Ctrl-C.
`

// Command is the playground command line: "botserver playground".
type Command struct {
	Registry       *server.Registry
	Stdout, Stderr io.Writer
	// Ready, when set, receives the page's address once it listens.
	Ready func(addr string)
}

// Run runs the playground with args until ctx ends or a stop signal
// arrives, and returns the exit code.
func (c Command) Run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("botserver playground", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {}
	path := fs.String("config", "", "the config file (YAML)")
	addr := fs.String("addr", DefaultAddr, "where the playground's page listens")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.Stdout, Usage)
			return server.ExitOK
		}
		fmt.Fprint(c.Stderr, Usage)
		return server.ExitUsage
	}
	data := []byte(defaultConfig)
	if *path != "" {
		var err error
		if data, err = os.ReadFile(*path); err != nil {
			fmt.Fprintln(c.Stderr, "botserver playground:", err)
			return server.ExitUsage
		}
	}
	p := New()
	defer p.Close()
	rewritten, page, err := Rewrite(data, p.Stand())
	if err != nil {
		fmt.Fprintf(c.Stderr, "botserver playground: %s: %v\n", cmp.Or(*path, "the default config"), err)
		return server.ExitUsage
	}
	p.SetPage(page)
	dir, err := os.MkdirTemp("", "playground")
	if err != nil {
		fmt.Fprintln(c.Stderr, "botserver playground:", err)
		return server.ExitFailed
	}
	defer os.RemoveAll(dir)
	// The rewritten file keeps the original's name, so that config errors
	// name a file the developer knows.
	file := filepath.Join(dir, filepath.Base(cmp.Or(*path, "playground.yaml")))
	if err := os.WriteFile(file, rewritten, 0o600); err != nil {
		fmt.Fprintln(c.Stderr, "botserver playground:", err)
		return server.ExitFailed
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(c.Stderr, "botserver playground:", err)
		return server.ExitUsage
	}
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Fprintf(c.Stdout, "botserver playground: open http://%s/ to chat with your bots as a Telegram, Slack and web user\n", ln.Addr())
	if c.Ready != nil {
		c.Ready(ln.Addr().String())
	}
	return server.Command{Registry: c.Registry, Stdout: c.Stdout, Stderr: c.Stderr}.Run(ctx, []string{"-config", file})
}
