package websocket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"

	gorilla "github.com/gorilla/websocket"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// Scope types of this adapter's scopes.
const (
	TypeWebSocket = "websocket"
	TypeHTTP      = "http"
)

// Adapter is the WebSocket and HTTP adapter: an HTTP server whose WebSocket
// requests become websocket scopes and whose other requests become http
// scopes, all served by one application.
type Adapter struct {
	cfg     Config
	log     *slog.Logger
	ln      net.Listener // from WithListener, or made by Run
	origins originPolicy
	proxies []netip.Prefix
	upg     gorilla.Upgrader
	page    http.Handler

	seq atomic.Uint64 // scope keys

	mu       sync.Mutex
	m        *scope.Manager // set by Run
	srv      *http.Server
	runCtx   context.Context
	conns    map[*conn]struct{} // open WebSocket connections
	stopping bool               // Shutdown or a hard stop began
	hard     bool               // a hard stop began: no connection may open
	started  chan struct{}      // closed once Run set m
	stopped  chan struct{}      // closed by Shutdown when done

	readers  sync.WaitGroup // WebSocket read loops
	stopOnce sync.Once
}

var (
	_ adapters.Runner  = (*Adapter)(nil)
	_ scope.Protocol    = (*Adapter)(nil)
	_ scope.EndNotifier = (*Adapter)(nil)
	_ http.Handler      = (*Adapter)(nil)
)

// New returns an adapter with the given configuration, which it checks.
func New(cfg Config, opts ...Option) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	o := options{logger: slog.Default()}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	a := &Adapter{
		cfg: cfg, log: o.logger, ln: o.listener,
		origins: newOriginPolicy(cfg.AllowedOrigins),
		conns:   make(map[*conn]struct{}),
		started: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	for _, p := range cfg.TrustedProxies {
		pfx, _ := parsePrefix(p) // checked by Validate
		a.proxies = append(a.proxies, pfx)
	}
	a.upg = gorilla.Upgrader{
		ReadBufferSize:    cfg.ReadBufferSize,
		WriteBufferSize:   cfg.WriteBufferSize,
		WriteBufferPool:   writePool(cfg.WriteBufferSize),
		EnableCompression: cfg.Compression,
		HandshakeTimeout:  cfg.WriteTimeout,
		// The origin was checked before the application saw the
		// connection; the upgrade itself need not check it again.
		CheckOrigin: func(*http.Request) bool { return true },
		// Rejections are answered by the adapter, not gorilla.
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			http.Error(w, http.StatusText(status), status)
		},
	}
	if cfg.PagePath != "" {
		a.page = ChatPage(cfg.PageSocket)
	}
	return a, nil
}

// writePools shares one buffer pool per buffer size among adapters, so that
// two adapters in a process do not keep two sets of idle buffers.
var writePools sync.Map // int -> *sync.Pool

func writePool(size int) gorilla.BufferPool {
	p, _ := writePools.LoadOrStore(size, &sync.Pool{})
	return p.(*sync.Pool)
}

// Name implements adapters.Runner.
func (a *Adapter) Name() string { return a.cfg.Name }

// Addr returns the address Run serves on, once Run has started, or nil.
func (a *Adapter) Addr() net.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ln == nil || a.m == nil {
		return nil
	}
	return a.ln.Addr()
}

// Started returns a channel closed once Run serves.
func (a *Adapter) Started() <-chan struct{} { return a.started }

// Run serves app until Shutdown (returning adapters.ErrStopped) or until
// ctx ends (a hard stop: connections are dropped, every scope still gets its
// disconnect event, and Run returns ctx's error).
func (a *Adapter) Run(ctx context.Context, app scope.Application) error {
	if app == nil {
		return fmt.Errorf("websocket: Run needs an application")
	}
	m, err := scope.NewManager(a.wrap(app), a, a.cfg.Scopes, scope.WithLogger(a.log))
	if err != nil {
		return fmt.Errorf("websocket: %w", err)
	}
	ln := a.ln
	if ln == nil {
		if ln, err = net.Listen("tcp", a.cfg.Addr); err != nil {
			_ = m.Close()
			return fmt.Errorf("websocket: listen: %w", err)
		}
	}
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: a.cfg.ReadHeaderTimeout,
		IdleTimeout:       a.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.mu.Lock()
	if a.m != nil {
		a.mu.Unlock()
		_ = m.Close()
		return fmt.Errorf("websocket: Run called twice")
	}
	a.m, a.srv, a.ln, a.runCtx = m, srv, ln, ctx
	close(a.started)
	a.mu.Unlock()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-a.stopped:
		<-served
		return adapters.ErrStopped
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			<-a.stopped // Shutdown closed the server and is finishing
			return adapters.ErrStopped
		}
		a.hardStop()
		return fmt.Errorf("websocket: serve: %w", err)
	case <-ctx.Done():
		a.hardStop()
		<-served
		return ctx.Err()
	}
}

// hardStop drops everything at once: the server, every connection, and
// every scope (which still get their disconnect events).
func (a *Adapter) hardStop() {
	a.mu.Lock()
	a.stopping, a.hard = true, true
	a.mu.Unlock()
	_ = a.srv.Close()
	// Scopes end first, so that their final events say shutdown rather
	// than a dropped connection.
	_ = a.m.Close()
	a.closeConns()
	a.readers.Wait()
}

// Shutdown stops accepting connections and requests, lets every scope
// handle what it has queued, ends every scope with reason shutdown (open
// WebSockets are closed with 1001, requests without a response get 503),
// and waits for responses in flight and for connections to close, until
// ctx ends. Run then returns adapters.ErrStopped.
func (a *Adapter) Shutdown(ctx context.Context) error {
	a.mu.Lock()
	m, srv := a.m, a.srv
	a.stopping = true
	a.mu.Unlock()
	if m == nil {
		a.stopOnce.Do(func() { close(a.stopped) })
		return nil
	}
	// The server stops listening at once and then waits for the handlers
	// of requests in flight, which end with their scopes below.
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Shutdown(ctx) }()
	err := m.Shutdown(ctx)
	readers := make(chan struct{})
	go func() { a.readers.Wait(); close(readers) }()
	select {
	case <-readers:
	case <-ctx.Done():
		a.closeConns() // clients that never answered the close frame
		<-readers
		err = errors.Join(err, ctx.Err())
	}
	if serr := <-srvDone; serr != nil {
		_ = srv.Close()
		err = errors.Join(err, serr)
	}
	a.stopOnce.Do(func() { close(a.stopped) })
	if err != nil {
		return fmt.Errorf("websocket: shutdown: %w", err)
	}
	return nil
}

func (a *Adapter) closeConns() {
	a.mu.Lock()
	cs := make([]*conn, 0, len(a.conns))
	for c := range a.conns {
		cs = append(cs, c)
	}
	a.mu.Unlock()
	for _, c := range cs {
		c.drop()
	}
}

// track registers an open connection; it fails once the adapter stops.
func (a *Adapter) track(c *conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hard {
		return false
	}
	a.conns[c] = struct{}{}
	a.readers.Add(1)
	return true
}

func (a *Adapter) untrack(c *conn) {
	a.mu.Lock()
	delete(a.conns, c)
	a.mu.Unlock()
	a.readers.Done()
}

// manager returns the scope manager, or nil when the adapter is stopping.
func (a *Adapter) manager() (*scope.Manager, context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopping {
		return nil, nil
	}
	return a.m, a.runCtx
}

// newKey returns a key unique among the adapter's scopes.
func (a *Adapter) newKey(prefix byte) string {
	return string(prefix) + strconv.FormatUint(a.seq.Add(1), 36)
}

// ServeHTTP implements http.Handler: Run serves with it, and a program with
// a server of its own may mount the adapter in it (Run must be running).
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.page != nil && r.URL.Path == a.cfg.PagePath {
		a.page.ServeHTTP(w, r)
		return
	}
	m, ctx := a.manager()
	if m == nil {
		w.Header().Set("Connection", "close")
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	if gorilla.IsWebSocketUpgrade(r) {
		a.serveWebSocket(ctx, m, w, r)
		return
	}
	a.serveHTTP(m, w, r)
}
