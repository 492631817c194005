package adapters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// ListenConfig bounds a listener that an adapter (or a server) opens, so
// that no client, however hostile, can hold more than a known share of the
// process: time, connections, header and body memory. It is the listener
// section of an adapter's config (webhook.listener for Telegram, listener
// for Slack and WebSocket, ops.listener for the ops listener). A zero field
// takes its default (Defaults).
type ListenConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers, from the
	// moment the connection is accepted or its previous request ended.
	// Default: 5s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadBodyTimeout bounds reading a request's body, after its headers:
	// a body that trickles in slower is cut off and its connection
	// closed. Default: 10s.
	ReadBodyTimeout time.Duration `yaml:"read_body_timeout"`
	// WriteTimeout bounds writing a response, counted from the end of
	// the request's headers, so it must cover the handler's own wait.
	// Default: 30s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes a keep-alive connection that sends no new
	// request for this long. Default: 30s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds a request's header block. Default: 16 KiB.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// MaxConns bounds the connections open at once on the listener,
	// hijacked ones (WebSockets) included until they close. A connection
	// over it is answered 503 and closed at once. Default: 512.
	MaxConns int `yaml:"max_conns"`
	// MaxConnsPerClient bounds the connections open at once from one
	// client IP address. Default: 64.
	MaxConnsPerClient int `yaml:"max_conns_per_client"`
}

// Defaults of ListenConfig.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadBodyTimeout   = 10 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 30 * time.Second
	DefaultMaxHeaderBytes    = 16 << 10
	DefaultMaxConns          = 512
	DefaultMaxConnsPerClient = 64
)

// Defaults returns c with every zero field set to its default.
func (c ListenConfig) Defaults() ListenConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&c.ReadBodyTimeout, DefaultReadBodyTimeout)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxConnsPerClient == 0 {
		c.MaxConnsPerClient = DefaultMaxConnsPerClient
	}
	return c
}

// Check returns an error naming the first negative setting, prefixed by
// the section's name (such as "listener").
func (c ListenConfig) Check(section string) error {
	for name, d := range map[string]time.Duration{"read_header_timeout": c.ReadHeaderTimeout,
		"read_body_timeout": c.ReadBodyTimeout, "write_timeout": c.WriteTimeout, "idle_timeout": c.IdleTimeout} {
		if d < 0 {
			return fmt.Errorf("%s.%s must not be negative, got %v", section, name, d)
		}
	}
	for name, v := range map[string]int{"max_header_bytes": c.MaxHeaderBytes, "max_conns": c.MaxConns,
		"max_conns_per_client": c.MaxConnsPerClient} {
		if v < 0 {
			return fmt.Errorf("%s.%s must not be negative, got %d", section, name, v)
		}
	}
	return nil
}

// ListenObserver is the optional interface of an Observer that counts the
// connections and requests a bounded listener refused, by reason
// (ReasonMaxConns, ReasonMaxConnsPerClient, ReasonBodyBudget).
// *ops.Metrics implements it.
type ListenObserver interface {
	ListenRefused(adapter, reason string)
}

// Reasons a bounded listener refuses a connection or a request.
const (
	ReasonMaxConns          = "max_conns"
	ReasonMaxConnsPerClient = "max_conns_per_client"
	ReasonBodyBudget        = "body_budget"
)

// Refused reports a connection or request refused for reason.
func (r Report) Refused(reason string) {
	if o, ok := r.obs.(ListenObserver); ok {
		o.ListenRefused(r.name, reason)
	}
}

// ListenOption configures NewHTTPServer and NewListener.
type ListenOption func(*listenOpts)

type listenOpts struct {
	name   string
	log    *slog.Logger
	report Report
	now    func() time.Time
	refuse []byte
	every  time.Duration
}

// ListenName names the listener in its log lines. Default: the Report's
// adapter name, or "listener".
func ListenName(name string) ListenOption { return func(o *listenOpts) { o.name = name } }

// ListenLogger sets where refusals are logged. Default: slog.Default().
func ListenLogger(l *slog.Logger) ListenOption { return func(o *listenOpts) { o.log = l } }

// ListenReport sets where refusals are counted, such as an Intake's
// Report. Default: nowhere.
func ListenReport(r Report) ListenOption {
	return func(o *listenOpts) {
		o.report = r
		if o.name == "" {
			o.name = r.name
		}
	}
}

// ListenFrom takes the logger and the Report of an Intake.
func ListenFrom(in *Intake) ListenOption {
	return func(o *listenOpts) {
		ListenLogger(in.Logger())(o)
		ListenReport(in.Report())(o)
	}
}

// listenClock sets the clock of the refusal log's rate limit, for tests.
func listenClock(now func() time.Time) ListenOption { return func(o *listenOpts) { o.now = now } }

// refusalLogEvery is how often at most a listener logs its refusals.
const refusalLogEvery = 5 * time.Second

func buildListenOpts(opts []ListenOption) listenOpts {
	o := listenOpts{now: time.Now, every: refusalLogEvery}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.name == "" {
		o.name = "listener"
	}
	return o
}

// Listener is a net.Listener that holds at most MaxConns connections open
// at once, and at most MaxConnsPerClient from one IP address. A connection
// over either cap is refused at once: it gets the refusal bytes (a 503 for
// an HTTP listener) if the socket takes them without waiting, and is
// closed. Refusals are counted through the Report and logged at most once
// every few seconds, with how many there were. A connection counts until
// it is closed, by whoever holds it: a hijacked WebSocket counts for its
// whole life.
type Listener struct {
	net.Listener
	max, perClient int
	o              listenOpts

	mu      sync.Mutex
	open    int            // connections open
	clients map[string]int // connections open by client address
	refused int            // refusals not yet logged
	logged  time.Time      // when refusals were last logged
}

// NewListener bounds ln by cfg's MaxConns and MaxConnsPerClient (zero
// fields take their defaults).
func NewListener(ln net.Listener, cfg ListenConfig, opts ...ListenOption) *Listener {
	cfg = cfg.Defaults()
	return &Listener{Listener: ln, max: cfg.MaxConns, perClient: cfg.MaxConnsPerClient,
		o: buildListenOpts(opts), clients: make(map[string]int)}
}

// Open returns how many accepted connections are open.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Accept returns the next connection within the caps, refusing those over
// them.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := clientOf(c.RemoteAddr())
		if reason := l.admit(client); reason != "" {
			l.refuse(c, reason)
			continue
		}
		return &boundConn{Conn: c, l: l, client: client}, nil
	}
}

func clientOf(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// admit counts a new connection from client, or says why it may not open.
func (l *Listener) admit(client string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open >= l.max:
		return ReasonMaxConns
	case l.clients[client] >= l.perClient:
		return ReasonMaxConnsPerClient
	}
	l.open++
	l.clients[client]++
	return ""
}

func (l *Listener) release(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.clients[client]--; l.clients[client] <= 0 {
		delete(l.clients, client)
	}
}

// refuse closes c at once, after the refusal if the socket's buffer takes
// it: the accept loop never waits on a client. The refusal is counted and
// logged first, so that whoever sees the 503 can find it on the record.
func (l *Listener) refuse(c net.Conn, reason string) {
	l.record(reason)
	if len(l.o.refuse) > 0 {
		_ = c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond)) // real I/O: the wall clock
		_, _ = c.Write(l.o.refuse)
	}
	_ = c.Close()
}

// record counts a refusal and logs the refusals at most once per interval.
func (l *Listener) record(reason string) {
	l.o.report.Refused(reason)
	l.mu.Lock()
	l.refused++
	now := l.o.now()
	if now.Sub(l.logged) < l.o.every {
		l.mu.Unlock()
		return
	}
	n, open := l.refused, l.open
	l.refused, l.logged = 0, now
	l.mu.Unlock()
	l.o.log.Warn("connections refused: the listener is at its cap; raise "+reason+" if these clients are legitimate",
		"listener", l.o.name, "addr", l.Addr().String(), "reason", reason, "refused", n, "open", open,
		"max_conns", l.max, "max_conns_per_client", l.perClient)
}

// boundConn is an accepted connection, counted until closed.
type boundConn struct {
	net.Conn
	l      *Listener
	client string
	once   sync.Once
}

func (c *boundConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.client) })
	return err
}

// SyscallConn returns the accepted connection's syscall.RawConn, if it has
// one, so that a handler that hijacked the connection can wait for input
// without reading (the WebSocket adapter's idle connections do).
func (c *boundConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

var _ syscall.Conn = (*boundConn)(nil)

// refusal503 is what an HTTP listener answers a connection over its cap.
const refusal503 = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n" +
	"Connection: close\r\nContent-Length: 20\r\n\r\ntoo many connections"

// HTTPServer is an http.Server on a bounded Listener, with every timeout
// of a ListenConfig set.
type HTTPServer struct {
	srv *http.Server
	ln  *Listener
}

// NewHTTPServer returns a server of h on ln, bounded by cfg (zero fields
// take their defaults). Connections over the caps get 503 and are closed.
func NewHTTPServer(ln net.Listener, h http.Handler, cfg ListenConfig, opts ...ListenOption) *HTTPServer {
	cfg = cfg.Defaults()
	opts = append(opts, func(o *listenOpts) { o.refuse = []byte(refusal503) })
	bl := NewListener(ln, cfg, opts...)
	return &HTTPServer{ln: bl, srv: &http.Server{
		// Not ReadTimeout: its deadline outlives the body, and when it
		// passes while a handler still waits (for its update to be
		// handled), net/http cancels the request's context.
		Handler:           bodyDeadline{h: h, d: cfg.ReadBodyTimeout},
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(bl.o.log.Handler(), slog.LevelWarn),
	}}
}

// bodyDeadline gives a request's body d to arrive, from the end of its
// headers; once the body is read to its end, the deadline is lifted, so
// that a handler may take its time to answer (WriteTimeout bounds that).
type bodyDeadline struct {
	h http.Handler
	d time.Duration
}

func (b bodyDeadline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(b.d)) == nil {
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		}
	}
	b.h.ServeHTTP(w, r)
}

// deadlineBody lifts the read deadline when the body ends.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (d *deadlineBody) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if err == io.EOF && !d.done {
		d.done = true
		_ = d.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// Addr returns the address the server listens on.
func (s *HTTPServer) Addr() net.Addr { return s.ln.Addr() }

// Open returns how many connections are open.
func (s *HTTPServer) Open() int { return s.ln.Open() }

// Serve accepts connections until Shutdown or Close; it returns
// http.ErrServerClosed after them.
func (s *HTTPServer) Serve() error { return s.srv.Serve(s.ln) }

// Shutdown stops listening at once, lets the requests in flight finish
// until grace ends, then closes every connection left. Hijacked
// connections are their holders' to close.
func (s *HTTPServer) Shutdown(grace context.Context) {
	if s.srv.Shutdown(grace) != nil {
		_ = s.srv.Close()
	}
}

// Serve serves h on ln, bounded by cfg and reporting through in, until ctx
// ends; then it drains the requests in flight until in.Grace ends and
// closes what is left. It calls in.Ready once it accepts connections.
func Serve(ctx context.Context, in *Intake, ln net.Listener, h http.Handler, cfg ListenConfig, opts ...ListenOption) error {
	s := NewHTTPServer(ln, h, cfg, append([]ListenOption{ListenFrom(in)}, opts...)...)
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	in.Ready()
	select {
	case err := <-served:
		s.Shutdown(in.Grace())
		return err
	case <-ctx.Done():
		s.Shutdown(in.Grace())
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
