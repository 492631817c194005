// Command botserver runs Switchboard bots.
//
// With no arguments it runs on embedded defaults: the echo bot on the
// console adapter, chatting on this terminal. Type a line to talk in the
// default conversation, "@name text" to talk in conversation name, and
// Ctrl-D (end of input) or Ctrl-C to stop.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/console"
	"github.com/switchboard-bots/switchboard/bots/echo"
	"github.com/switchboard-bots/switchboard/router/middleware"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "botserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("botserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print the version and exit")
	grace := fs.Duration("grace", 10*time.Second, "how long shutdown waits for conversations to end")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintln(stdout, "botserver", version)
		return nil
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a := console.New(stdin, stdout, console.Config{}, log)
	app := middleware.Recover(echo.New())

	fmt.Fprintln(stderr, "Switchboard botserver: the echo bot is listening on this terminal.")
	fmt.Fprintln(stderr, `Type a message, or "@name text" to talk in conversation "name"; Ctrl-D or Ctrl-C to stop.`)

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	runCtx, hardStop := context.WithCancel(ctx)
	defer hardStop()
	go func() {
		select {
		case <-sigs:
		case <-runCtx.Done():
			return
		}
		sctx, cancel := context.WithTimeout(runCtx, *grace)
		defer cancel()
		go func() { // a second signal stops at once
			select {
			case <-sigs:
				hardStop()
			case <-sctx.Done():
			}
		}()
		if err := a.Shutdown(sctx); err != nil {
			log.Error("shutdown", "err", err)
			hardStop()
		}
	}()
	err := a.Run(runCtx, app)
	if errors.Is(err, adapters.ErrStopped) {
		return nil
	}
	return err
}
