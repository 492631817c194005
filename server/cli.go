package server

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard-bots/switchboard/ops/logs"
)

// Exit codes of the botserver command.
const (
	ExitOK     = 0 // a clean stop
	ExitFailed = 1 // the server failed, conversations outlived shutdown.grace, or a second signal stopped it at once
	ExitUsage  = 2 // a bad command line or config
)

// Command is the botserver command line, for programs that serve their
// own bots: build a registry (builtin.Registry plus your bots) and call
// Main.
type Command struct {
	// Registry holds the bots, adapter kinds and middleware a config can
	// name. Default: an empty registry.
	Registry *Registry
	// Version is printed by -version. Default: the main module's version
	// and the VCS revision it was built from (with "modified" when the
	// tree had uncommitted changes), from the binary's build info.
	Version string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// Getenv expands ${VAR} in config files. Default: os.Getenv.
	Getenv func(string) string
	// Signals delivers the stop signals. Default: SIGINT and SIGTERM.
	Signals <-chan os.Signal
	// Reloads delivers the signals that make the server read its config
	// file again and apply it (Server.Reload). Default: SIGHUP.
	Reloads <-chan os.Signal
	// Options are passed to New.
	Options []Option

	// jsonLog, set while serving with log.format json, takes the
	// command's own lines as records, so that every line of the log
	// parses as JSON.
	jsonLog *slog.Logger
}

// say writes one of the command's own lines: text, after "botserver: ",
// on standard error; in JSON mode a record of msg and attrs at level.
func (c Command) say(level slog.Level, text, msg string, attrs ...any) {
	if c.jsonLog != nil {
		c.jsonLog.Log(context.Background(), level, msg, attrs...)
		return
	}
	fmt.Fprintln(c.Stderr, "botserver: "+text)
}

// Main runs the botserver command line with reg's bots and exits.
func Main(reg *Registry, version string) {
	os.Exit(Command{Registry: reg, Version: version}.Run(context.Background(), os.Args[1:]))
}

const usage = `usage:
  botserver [-config FILE] [-grace DURATION]    run the bots (embedded defaults without -config)
  botserver worker -config FILE CHANNEL...      serve layer channels only (the "channel" routes)
  botserver check -config FILE                  validate a config file and exit
  botserver playground [-config FILE]           chat with the bots as a Telegram, Slack and web user, locally
  botserver reload -pid PID [-config FILE]      make a running botserver reload its config (SIGHUP)
  botserver -version                            print the version
  botserver help                                print this
`

const reloadUsage = `usage:
  botserver reload -pid PID [-config FILE]    make the botserver of process PID read its config
                                              file again (it receives SIGHUP, as from kill -HUP PID);
                                              with -config, check FILE first and signal only if it passes
`

const checkUsage = `usage:
  botserver check -config FILE    validate a config file and exit: 0 if it is sound, else 2
                                  with every problem found, each as FILE:LINE: KEY: MESSAGE
`

// parseFlags parses args into fs. Asked for help (-h, -help), it prints
// use to stdout, where a pager or grep reads it, and the command exits 0;
// on a bad flag (already reported by fs to stderr) it prints use to
// stderr and the command exits ExitUsage. done reports whether the
// command should exit with code.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, use string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, use)
		return ExitOK, true
	default:
		fmt.Fprint(stderr, use)
		return ExitUsage, true
	}
}

// version is c.Version, else what the build info says: the main module's
// version and the VCS revision, "modified" when built from a dirty tree.
func (c Command) version() string {
	if c.Version != "" {
		return c.Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return buildVersion(info)
}

// buildVersion formats info as "VERSION[, revision REV[, modified]]".
func buildVersion(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		v += ", revision " + rev
		if settings["vcs.modified"] == "true" {
			v += ", modified"
		}
	}
	return v
}

// Run runs the command with args and returns the exit code.
func (c Command) Run(ctx context.Context, args []string) int {
	c.setDefaults()
	if len(args) > 0 && args[0] == "check" {
		return c.check(args[1:])
	}
	if len(args) > 0 && args[0] == "reload" {
		return c.signalReload(args[1:])
	}
	if len(args) > 0 && args[0] == "help" {
		fmt.Fprint(c.Stdout, usage)
		return ExitOK
	}
	var workerChannels []string
	name := "botserver"
	if len(args) > 0 && args[0] == "worker" {
		args, name = args[1:], "botserver worker"
		workerChannels = []string{}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {} // Parse's errors are followed by the usage below, -h by it on stdout
	path := fs.String("config", "", "the config file (YAML)")
	grace := fs.Duration("grace", 0, "how long a stop waits for conversations to end (default: the config's shutdown.grace, else 10s)")
	version := fs.Bool("version", false, "print the version and exit")
	if code, done := parseFlags(fs, args, c.Stdout, c.Stderr, usage); done {
		return code
	}
	if *version {
		fmt.Fprintln(c.Stdout, "botserver", c.version())
		return ExitOK
	}
	if workerChannels != nil {
		if fs.NArg() == 0 || *path == "" {
			fmt.Fprint(c.Stderr, "botserver worker: -config FILE and at least one channel are required\n", usage)
			return ExitUsage
		}
		workerChannels = fs.Args()
		c.Options = append(c.Options, AsWorker(workerChannels...))
	} else if fs.NArg() > 0 {
		fmt.Fprintf(c.Stderr, "botserver: unexpected argument %q\n%s", fs.Arg(0), usage)
		return ExitUsage
	}
	cfg, err := c.load(*path)
	if err != nil {
		fmt.Fprintln(c.Stderr, "botserver:", err) // masked by Parse
		return ExitUsage
	}
	if *grace > 0 {
		cfg.Shutdown.Grace = *grace
	}
	if cfg.Shutdown.Grace == 0 {
		cfg.Shutdown.Grace = DefaultGrace
	}
	red := cfg.Redactor()
	level := new(slog.LevelVar)
	log, throttle, err := newLogger(cfg.Log, c.Stderr, &red, level)
	if err != nil {
		fmt.Fprintln(c.Stderr, "botserver:", red.String(cfg.errorAt("log", err).Error()))
		return ExitUsage
	}
	// The command's logger goes first, so that a WithLogger of the
	// caller's own wins.
	s, err := New(cfg, c.Registry, append([]Option{WithLogger(log), WithLogLevel(level), WithVersion(c.version())}, c.Options...)...)
	if err != nil {
		fmt.Fprintln(c.Stderr, "botserver:", red.String(err.Error()))
		return ExitUsage
	}
	for _, w := range Warnings(cfg, c.Registry) {
		log.Warn("config", "warning", w.Error())
	}
	reload := func() (*Config, error) {
		cfg, err := c.load(*path)
		if err != nil {
			return nil, err
		}
		if *grace > 0 {
			cfg.Shutdown.Grace = *grace
		}
		return cfg, nil
	}
	if cfg.Log.Format == "json" {
		c.jsonLog = log
	}
	code := c.serve(ctx, s, log, reload)
	if throttle != nil {
		_ = throttle.Flush(context.Background()) // the counts of the last interval
	}
	return code
}

// newLogger builds the command's logger: the one c describes, writing to
// w, behind a logs.Throttle that bounds repeated lines and masks secrets
// with red. The Throttle is nil when c turns throttling off; secrets are
// masked all the same.
func newLogger(c LogConfig, w io.Writer, red *logs.Redactor, level *slog.LevelVar) (*slog.Logger, *logs.Throttle, error) {
	base, err := newLevelLogger(c, w, level)
	if err != nil {
		return nil, nil, err
	}
	burst := c.Throttle.Burst
	if burst < 0 {
		// Throttling off: a burst no traffic reaches within the
		// interval keeps the redaction and the stack ids.
		burst = math.MaxInt
	}
	t := logs.NewThrottle(base.Handler(), logs.ThrottleOptions{Burst: burst, Interval: c.Throttle.Interval, Redactor: red})
	return slog.New(t), t, nil
}

func (c *Command) setDefaults() {
	if c.Registry == nil {
		c.Registry = NewRegistry()
	}
	if c.Stdin == nil {
		c.Stdin = os.Stdin
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	c.Options = append([]Option{WithStdio(c.Stdin, c.Stdout)}, c.Options...)
}

func (c Command) load(path string) (*Config, error) {
	if path == "" {
		return Default(c.Getenv), nil
	}
	return Load(path, c.Getenv)
}

func (c Command) check(args []string) int {
	fs := flag.NewFlagSet("botserver check", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {}
	path := fs.String("config", "", "the config file (YAML)")
	if code, done := parseFlags(fs, args, c.Stdout, c.Stderr, checkUsage); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.Stderr, "botserver check: unexpected argument %q\n%s", fs.Arg(0), checkUsage)
		return ExitUsage
	}
	if *path == "" {
		fmt.Fprint(c.Stderr, "botserver check: -config FILE is required\n", checkUsage)
		return ExitUsage
	}
	cfg, err := Load(*path, c.Getenv)
	if err == nil {
		err = Check(cfg, c.Registry, c.Options...)
	}
	if err != nil {
		red := cfg.Redactor() // a nil cfg's masks patterns only; Load's errors are masked already
		fmt.Fprintln(c.Stderr, red.String(err.Error()))
		return ExitUsage
	}
	for _, w := range Warnings(cfg, c.Registry) {
		fmt.Fprintln(c.Stderr, cfg.Redactor().String(w.Error()))
	}
	fmt.Fprintf(c.Stdout, "%s: ok\n", *path)
	return ExitOK
}

// Check reports every problem New would find in cfg, each with its file
// and line, without running anything: what `botserver check` does. Beyond
// Validate it builds the routes, the middleware and the adapters from
// their factories, and checks that every route's protocol is served by an
// adapter, every adapter has a route, every bot handles the protocol it is
// routed to, and what an adapter's own pages connect to is routed.
func Check(cfg *Config, reg *Registry, opts ...Option) error {
	opts = append(opts[:len(opts):len(opts)], WithLogger(slog.New(slog.DiscardHandler)))
	s, err := New(cfg, reg, opts...)
	if err != nil {
		return err
	}
	s.closeLayer(context.Background())
	return nil
}

// serve runs s until the first stop signal (or ctx ending), then shuts it
// down within the config's shutdown.grace; a second signal stops it at
// once. It returns within a second of grace's end whatever the handlers
// do: a handler that ignores its context is left behind, named in the log,
// and the process exits ExitFailed. A reload signal makes it read the
// config again with load and apply it (Server.Reload), logging what it
// refused.
func (c Command) serve(ctx context.Context, s *Server, log *slog.Logger, load func() (*Config, error)) int {
	sigs := c.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(ch)
		sigs = ch
	}
	reloads := c.Reloads
	if reloads == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGHUP)
		defer signal.Stop(ch)
		reloads = ch
	}
	runCtx, hardStop := context.WithCancel(context.WithoutCancel(ctx))
	defer hardStop()
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	if ws := s.WebSocket(); ws != nil {
		go c.announce(runCtx, s)
	}

	var reloading sync.WaitGroup
	defer reloading.Wait()
wait:
	for {
		select {
		case err := <-done:
			return c.exit(err)
		case <-reloads:
			reloading.Go(func() { reloadOnce(runCtx, s, log, load) })
		case <-sigs:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	grace := s.grace()
	c.say(slog.LevelInfo, fmt.Sprintf("stopping within %v; a second signal stops at once", grace),
		"stopping; a second signal stops at once", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(sctx) }()
	var shutErr error
	select {
	case shutErr = <-shut:
	case <-sigs:
		hardStop()
		return c.now()
	}
	if shutErr != nil {
		c.say(slog.LevelError, fmt.Sprint("shutdown: ", shutErr), "shutdown", "err", shutErr)
		hardStop()
	}
	// Run returns once every adapter's Run did, which a handler ignoring
	// its context can hold up: wait for it only briefly.
	wait := time.NewTimer(2 * afterDeadline)
	defer wait.Stop()
	select {
	case err := <-done:
		if shutErr != nil {
			if sctx.Err() != nil {
				c.say(slog.LevelError, fmt.Sprintf("conversations did not end within %v", grace),
					"conversations did not end within the grace", "grace", grace)
			}
			return ExitFailed
		}
		return c.exit(err)
	case <-wait.C:
		c.say(slog.LevelError, "adapters still running after the shutdown; exiting anyway", "adapters still running after the shutdown; exiting anyway")
		hardStop()
		return ExitFailed
	case <-sigs:
		hardStop()
		return c.now()
	}
}

// reloadOnce reads the config again with load and applies it to s, within
// the new config's shutdown.grace for the adapters it restarts. A config
// that does not load or fails Check is refused: each of its errors is
// logged, and the running config stays.
func reloadOnce(ctx context.Context, s *Server, log *slog.Logger, load func() (*Config, error)) {
	log.Info("reload: reading the config again")
	cfg, err := load()
	if err == nil {
		grace := cmp.Or(cfg.Shutdown.Grace, DefaultGrace)
		rctx, cancel := context.WithTimeout(ctx, grace)
		err = s.Reload(rctx, cfg)
		cancel()
	}
	if err == nil {
		return
	}
	red := cfg.Redactor() // a config that failed to load was masked by Load
	if errors.Is(err, ErrNotRunning) {
		log.Warn("reload: the server is stopping; nothing reloaded")
		return
	}
	// The errors of a file, one a line, as check prints them.
	msg := strings.TrimPrefix(red.String(err.Error()), ErrReloadRefused.Error()+": ")
	lines := strings.Split(msg, "\n")
	log.Error("reload refused; the running config stays", "errors", len(lines))
	for _, line := range lines {
		log.Error("reload: config error", "err", line)
	}
}

// signalReload is `botserver reload`: it sends the reload signal to the
// botserver whose process id -pid names, after checking -config, when
// given, so that a broken file is refused here rather than in that
// server's log.
func (c Command) signalReload(args []string) int {
	fs := flag.NewFlagSet("botserver reload", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {}
	pid := fs.Int("pid", 0, "the process id of the running botserver")
	path := fs.String("config", "", "check this config file first; signal only if it passes")
	if code, done := parseFlags(fs, args, c.Stdout, c.Stderr, reloadUsage); done {
		return code
	}
	if fs.NArg() > 0 || *pid <= 0 {
		fmt.Fprint(c.Stderr, "botserver reload: -pid PID is required\n", reloadUsage)
		return ExitUsage
	}
	if *path != "" {
		if code := c.check([]string{"-config", *path}); code != ExitOK {
			fmt.Fprintln(c.Stderr, "botserver reload: not signalled: the config has errors")
			return code
		}
	}
	if err := syscall.Kill(*pid, syscall.SIGHUP); err != nil {
		fmt.Fprintf(c.Stderr, "botserver reload: signal process %d: %v\n", *pid, err)
		return ExitFailed
	}
	return ExitOK
}

// now is a stop by a second signal.
func (c Command) now() int {
	c.say(slog.LevelWarn, "second signal; stopping now", "second signal; stopping now")
	return ExitFailed
}

func (c Command) exit(err error) int {
	if err != nil && !errors.Is(err, context.Canceled) {
		c.say(slog.LevelError, err.Error(), "botserver failed", "err", err)
		return ExitFailed
	}
	return ExitOK
}

// announce tells where to point a browser once the WebSocket adapter
// listens.
func (c Command) announce(ctx context.Context, s *Server) {
	select {
	case <-s.WebSocket().Ready():
	case <-ctx.Done():
		return
	}
	addr := s.WebSocketAddr()
	if p, ok := s.WebSocket().Adapter().(interface{ PagePath() string }); ok && p.PagePath() != "" {
		url := fmt.Sprintf("http://%s%s", addr, p.PagePath())
		c.say(slog.LevelInfo, fmt.Sprintf("listening on %s; open %s in a browser to chat with the bot", addr, url),
			"listening; open the page in a browser to chat with the bot", "addr", addr.String(), "page", url)
		return
	}
	c.say(slog.LevelInfo, fmt.Sprintf("listening on %s; no chat page (websocket.page_path)", addr),
		"listening; no chat page (websocket.page_path)", "addr", addr.String())
}
