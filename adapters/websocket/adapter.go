package websocket

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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
// scopes, all served by the application of the adapters.Host that runs it.
type Adapter struct {
	cfg     Config
	origins originPolicy
	proxies []netip.Prefix
	upg     gorilla.Upgrader
	page    http.Handler
	given   bool // a WithListener listener: Config.Addr names nothing

	seq atomic.Uint64 // scope keys

	mu   sync.Mutex
	ln   net.Listener // from WithListener, until Serve takes it
	addr net.Addr     // where Serve listens, once it does
	cur  *run         // the current Serve's intake; nil when none takes requests
}

var (
	_ adapters.Adapter         = (*Adapter)(nil)
	_ adapters.Disconnecter    = (*Adapter)(nil)
	_ adapters.Ender           = (*Adapter)(nil)
	_ adapters.Protocols       = (*Adapter)(nil)
	_ adapters.ScopeConfigurer = (*Adapter)(nil)
	_ adapters.RouteNeeder     = (*Adapter)(nil)
	_ http.Handler             = (*Adapter)(nil)
)

// New returns an adapter with the given configuration, which it checks.
func New(cfg Config, opts ...Option) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	a := &Adapter{cfg: cfg, ln: o.listener, given: o.listener != nil, origins: newOriginPolicy(cfg.AllowedOrigins)}
	for _, p := range cfg.TrustedProxies {
		pfx, _ := parsePrefix(p) // checked by Validate
		a.proxies = append(a.proxies, pfx)
	}
	readBuf := cfg.ReadBufferSize
	if a.ownReader() > 0 {
		// With 0, gorilla reads frames from the reader the hijack hands
		// it when that is over 256 bytes: the corkConn's (see ownReader).
		readBuf = 0
	}
	a.upg = gorilla.Upgrader{
		ReadBufferSize:    readBuf,
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

// Factory builds the adapter from its config section (see Config). The
// section's name is the adapter's.
func Factory(s adapters.Setup) (adapters.Adapter, error) {
	var cfg Config
	if err := s.Decode(&cfg); err != nil {
		return nil, err
	}
	if s.Name != "" {
		cfg.Name = s.Name
	}
	return New(cfg)
}

// writePools shares one buffer pool per buffer size among adapters, so that
// two adapters in a process do not keep two sets of idle buffers.
var writePools sync.Map // int -> *sync.Pool

func writePool(size int) gorilla.BufferPool {
	p, _ := writePools.LoadOrStore(size, &sync.Pool{})
	return p.(*sync.Pool)
}

// ownReader is the size of the reader the corkConn makes for gorilla to
// take over, for awaitInput to fill: ReadBufferSize when gorilla takes
// over a reader that size, else 0 (gorilla then makes its own reader and
// the read loop waits inside it).
func (a *Adapter) ownReader() int {
	if a.cfg.ReadBufferSize > readerOver {
		return a.cfg.ReadBufferSize
	}
	return 0
}

// deadlineSlack is how much later than its timeout a write may time out
// (see corkConn.setWriteDeadlineLocked): a quarter of the shorter of
// SendTimeout and WriteTimeout.
func (a *Adapter) deadlineSlack() time.Duration {
	return min(a.cfg.SendTimeout, a.cfg.WriteTimeout) / 4
}

// Name implements adapters.Adapter.
func (a *Adapter) Name() string { return a.cfg.Name }

// Protocols implements adapters.Protocols: WebSocket and HTTP scopes.
func (a *Adapter) Protocols() []string { return []string{TypeWebSocket, TypeHTTP} }

// ScopeConfig returns c as this adapter's scopes need it: a connection's
// scope lasts as long as the connection (keepalive pings find dead peers),
// so it never ends for being idle, and it is never evicted to make room
// for another: at max_scopes a new connection or request is refused with
// 503 instead, so that opening connections cannot disconnect quiet users.
// It implements adapters.ScopeConfigurer: adapters.NewHost applies it.
func (a *Adapter) ScopeConfig(c scope.Config) scope.Config {
	c.IdleTimeout = -1
	c.NoEvict = true
	return c
}

// NeededRoutes implements adapters.RouteNeeder: the chat page, when served,
// connects to its page socket, which a websocket route must serve.
func (a *Adapter) NeededRoutes() []adapters.NeededRoute {
	if a.page == nil {
		return nil
	}
	return []adapters.NeededRoute{{
		Protocol: TypeWebSocket,
		Path:     a.cfg.PageSocket,
		Why:      fmt.Sprintf("the chat page at %q connects to %q", a.cfg.PagePath, a.cfg.PageSocket),
		Keys:     []string{"page_socket", "page_path"},
		Fix:      `, or set page_socket to a routed path (page_path: "" serves no page)`,
	}}
}

// Addr returns the address Serve listens on, once the Host is ready, or
// nil before.
func (a *Adapter) Addr() net.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addr
}

// run is what one Serve shares with the requests it serves.
type run struct {
	in       *adapters.Intake
	log      *slog.Logger
	stopping chan struct{} // closed when intake stops

	lastFull atomic.Int64 // unix nanoseconds of the last "too many scopes" warning
	ownOnce  sync.Once
	own      map[string]bool // the host:ports the listener is known by; see ownHosts

	mu      sync.Mutex
	conns   map[*conn]struct{} // open WebSocket connections, which http.Server does not track
	closed  bool               // intake stopped: no connection may open
	readers sync.WaitGroup     // the read loops of conns
}

// full logs that a connection was refused at max_scopes, at most once a
// second: a client that keeps connecting at the bound must not flood the
// log.
func (rn *run) full(adapter string, err error) {
	now := time.Now().UnixNano()
	last := rn.lastFull.Load()
	if now-last < int64(time.Second) || !rn.lastFull.CompareAndSwap(last, now) {
		return
	}
	rn.log.Warn("websocket: new connections refused (503) at the bound on live scopes", "adapter", adapter, "err", err)
}

// ownHosts returns the host:ports the current listener is known by, worked
// out on first use (the listener is bound by then: requests come through
// it). The host named in Config.Addr counts only when Serve listened on
// it rather than on a WithListener listener.
func (a *Adapter) ownHosts(rn *run) map[string]bool {
	rn.ownOnce.Do(func() {
		name := ""
		if !a.given {
			name, _, _ = net.SplitHostPort(a.cfg.Addr)
		}
		if addr := a.Addr(); addr != nil {
			rn.own = ownHosts(addr, name)
		}
	})
	return rn.own
}

// track registers an open connection; it fails once intake stopped.
func (rn *run) track(c *conn) bool {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if rn.closed {
		return false
	}
	rn.conns[c] = struct{}{}
	rn.readers.Add(1)
	return true
}

func (rn *run) untrack(c *conn) {
	rn.mu.Lock()
	delete(rn.conns, c)
	rn.mu.Unlock()
	rn.readers.Done()
}

// close stops intake and returns the open connections.
func (rn *run) close() []*conn {
	rn.mu.Lock()
	rn.closed = true
	close(rn.stopping)
	rn.mu.Unlock()
	return rn.open()
}

// open returns the open connections.
func (rn *run) open() []*conn {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	cs := make([]*conn, 0, len(rn.conns))
	for c := range rn.conns {
		cs = append(cs, c)
	}
	return cs
}

// Serve implements adapters.Adapter: it listens on Config.Addr (or the
// WithListener listener) and serves until ctx ends. Then it stops
// accepting, ends every scope with reason shutdown after what it has
// queued (open WebSockets close with 1001, requests still unanswered get
// 503), waits for responses in flight and for clients to answer the close,
// and returns. At in.Grace it stops waiting: the connections left are
// dropped.
func (a *Adapter) Serve(ctx context.Context, in *adapters.Intake) error {
	a.mu.Lock()
	ln := a.ln
	a.ln = nil
	a.mu.Unlock()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", a.cfg.Addr); err != nil {
			return fmt.Errorf("websocket: listen: %w", err)
		}
	}
	rn := &run{in: in, log: in.Logger(), stopping: make(chan struct{}), conns: make(map[*conn]struct{})}
	srv := adapters.NewHTTPServer(ln, a, a.listenConfig(), adapters.ListenFrom(in), adapters.ListenName(a.Name()))
	a.mu.Lock()
	a.cur, a.addr = rn, ln.Addr()
	a.mu.Unlock()
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	in.Ready()
	select {
	case <-ctx.Done():
		a.drain(rn, srv)
		<-served
		return nil
	case err := <-served:
		a.drain(rn, srv)
		return fmt.Errorf("websocket: serve: %w", err)
	}
}

// drain stops intake and ends every scope, bounded by the Host's grace.
func (a *Adapter) drain(rn *run, srv *adapters.HTTPServer) {
	a.mu.Lock()
	a.cur = nil
	a.mu.Unlock()
	conns := rn.close()
	grace := rn.in.Grace()
	// The server stops listening at once, then waits for the requests in
	// flight (upgrades included), which end with their scopes.
	shut := make(chan struct{})
	go func() { srv.Shutdown(grace); close(shut) }()
	for _, c := range conns {
		c.shutdown()
	}
	readers := make(chan struct{})
	go func() { rn.readers.Wait(); close(readers) }()
	select {
	case <-readers:
	case <-grace.Done():
		left := rn.open()
		for _, c := range left {
			c.drop() // clients that never answered the close frame, handlers still running
		}
		rn.log.Warn("websocket: connections dropped at the shutdown deadline", "adapter", a.Name(), "connections", len(left))
	}
	<-shut
}

// DefaultMaxConns is the WebSocket adapter's listener.max_conns default:
// each open WebSocket holds a connection for its whole life, so a chat
// site needs many more than a webhook does.
const DefaultMaxConns = 10_000

// listenConfig is the listener section, with read_header_timeout and
// idle_timeout where it leaves them unset, max_conns DefaultMaxConns, and
// max_conns_per_client max_conns: behind a reverse proxy every client has
// the proxy's address, so a cap per address is for a site that knows it
// faces its clients directly.
func (a *Adapter) listenConfig() adapters.ListenConfig {
	lc := a.cfg.Listener
	if lc.MaxConns == 0 {
		lc.MaxConns = DefaultMaxConns
	}
	if lc.MaxConnsPerClient == 0 {
		lc.MaxConnsPerClient = lc.MaxConns
	}
	if lc.ReadHeaderTimeout == 0 {
		lc.ReadHeaderTimeout = a.cfg.ReadHeaderTimeout
	}
	if lc.IdleTimeout == 0 {
		lc.IdleTimeout = a.cfg.IdleTimeout
	}
	return lc.Defaults()
}

// newKey returns a key unique among the adapter's scopes.
func (a *Adapter) newKey(prefix byte) string {
	return string(prefix) + strconv.FormatUint(a.seq.Add(1), 36)
}

// PagePath returns where the adapter serves the web chat page, or "" when
// it serves none.
func (a *Adapter) PagePath() string { return a.cfg.PagePath }

// ServeHTTP implements http.Handler: Serve serves with it, and a program
// with a server of its own may mount the adapter in it while Serve runs.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.page != nil && r.URL.Path == a.cfg.PagePath {
		a.page.ServeHTTP(w, r)
		return
	}
	if a.page != nil && r.URL.Path == faviconPath {
		// Every browser that loads the page asks for it: answered here,
		// it reaches no route and logs no refusal.
		serveFavicon(w, r)
		return
	}
	a.mu.Lock()
	rn := a.cur
	a.mu.Unlock()
	if rn == nil {
		w.Header().Set("Connection", "close")
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	if gorilla.IsWebSocketUpgrade(r) {
		a.serveWebSocket(rn, w, r)
		return
	}
	a.serveHTTP(rn, w, r)
}
