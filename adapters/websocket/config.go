package websocket

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// Config configures an Adapter. The zero value is usable: every zero field
// takes the default its comment names.
type Config struct {
	// Name is the adapter's name in logs and in Scope.Adapter.
	// Default: "websocket"; Factory uses the config section's name.
	Name string `yaml:"-"`
	// Addr is the address Serve listens on. Default: "127.0.0.1:8000".
	Addr string `yaml:"addr"`

	// AllowedOrigins lists the origins a browser may open a WebSocket
	// from, besides the server's own, which are always allowed: the
	// listener's address, "localhost" and the loopback addresses when it
	// listens on loopback or on every interface, the host name in Addr,
	// and an origin whose host is an IP address equal to the request's
	// Host. The Host header alone proves nothing (a rebound DNS name sends
	// its own), so a name the server is reached by otherwise, a public
	// name or a reverse proxy's, must be listed here. An entry is a full
	// origin ("https://example.com"), a host with optional port
	// ("example.com:8443"), a host suffix ("*.example.com") or "*" for any
	// origin. A request without an Origin header (not a browser) is
	// allowed. Default: none.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// TrustedProxies lists the networks (CIDR or single address) whose
	// X-Forwarded-For header is believed for Scope.ClientAddr. Default:
	// none; ClientAddr is the socket's peer.
	TrustedProxies []string `yaml:"trusted_proxies"`

	// ReadLimit bounds one incoming WebSocket message in bytes, on the
	// wire and, when compressed, once inflated; a larger one closes the
	// connection with 1009, and a compressed one is inflated no further
	// than the limit. Default: 64 KiB.
	ReadLimit int64 `yaml:"read_limit"`
	// ReadBufferSize is the per-connection read buffer, held for the
	// connection's whole life, so it is kept small. Default: 512 bytes.
	// Over 256 bytes, an idle connection's goroutine waits for input
	// with a smaller stack (see the package docs' Memory).
	ReadBufferSize int `yaml:"read_buffer_size"`
	// WriteBufferSize is the size of the pooled buffers outgoing frames are
	// assembled in; a connection holds one only while it writes.
	// Default: 4 KiB.
	WriteBufferSize int `yaml:"write_buffer_size"`
	// SendQueue bounds the outgoing messages queued for one connection.
	// Default: 256.
	SendQueue int `yaml:"send_queue"`
	// SendTimeout bounds how long a send waits for room in a full queue.
	// A client whose queue stays full that long reads too slowly: it is
	// disconnected with 1013 (try again later) rather than slowing its
	// consumer any longer. Default: 2 s.
	SendTimeout time.Duration `yaml:"send_timeout"`
	// WriteTimeout bounds the writing of one message or control frame.
	// Default: 10 s. A write may take up to a quarter of the shorter of
	// SendTimeout and WriteTimeout longer than its bound: the socket's
	// deadline then moves once in a while rather than for every message.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// PingInterval is how often an open connection is pinged. Default:
	// 25 s. Negative: never (and no pong deadline).
	PingInterval time.Duration `yaml:"ping_interval"`
	// PongTimeout is how long after a ping is due the pong may arrive
	// before the peer is taken for dead and dropped. Default: 20 s.
	PongTimeout time.Duration `yaml:"pong_timeout"`
	// HandshakeTimeout bounds the wait for the application to accept or
	// reject a new connection; then the client gets 503. Default: 10 s.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	// CloseTimeout bounds the wait for the client's answer to a close
	// frame the server sent and, once a client hung up (ended its side of
	// the stream without a close frame), the wait, from the hang-up, for
	// its scope to handle what it sent before and for the answers to be
	// written: a handler still running then, or a client that does not
	// read, holds the connection no longer, and what is sent later fails
	// with ErrClosed. Raise it for handlers that take longer to answer a
	// client that hangs up. Default: 2 s.
	CloseTimeout time.Duration `yaml:"close_timeout"`
	// Compression negotiates per-message deflate with clients that offer
	// it. It trades CPU and per-message memory for bandwidth. Default: off.
	Compression bool `yaml:"compression"`

	// MaxBody bounds an HTTP request body in bytes; a larger one is
	// answered 413. Default: 1 MiB. Negative: no bound.
	MaxBody int64 `yaml:"max_body"`
	// BodyChunk bounds one http.request event's chunk of the body.
	// Default: 64 KiB.
	BodyChunk int `yaml:"body_chunk"`
	// ReadHeaderTimeout bounds the reading of a request's headers.
	// Default: 10 s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// IdleTimeout closes a keep-alive HTTP connection idle this long.
	// Default: 60 s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// Listener bounds the listener: connections in all and per client
	// (an open WebSocket counts until it closes), header size, and the
	// time a request's body and its response may take (see
	// adapters.ListenConfig and its defaults). read_header_timeout and
	// idle_timeout above apply when the listener section leaves them unset.
	Listener adapters.ListenConfig `yaml:"listener"`

	// PagePath is where the web chat page is served ("/" for the site's
	// root). Default: "", no page.
	PagePath string `yaml:"page_path"`
	// PageSocket is the WebSocket path the page connects to.
	// Default: "/ws/".
	PageSocket string `yaml:"page_socket"`
}

// Defaults for Config.
const (
	DefaultName              = "websocket"
	DefaultAddr              = "127.0.0.1:8000"
	DefaultReadLimit         = 64 << 10
	DefaultReadBufferSize    = 512
	DefaultWriteBufferSize   = 4 << 10
	DefaultSendQueue         = 256
	DefaultWriteTimeout      = 10 * time.Second
	DefaultSendTimeout       = 2 * time.Second
	DefaultPingInterval      = 25 * time.Second
	DefaultPongTimeout       = 20 * time.Second
	DefaultHandshakeTimeout  = 10 * time.Second
	DefaultCloseTimeout      = 2 * time.Second
	DefaultMaxBody           = 1 << 20
	DefaultBodyChunk         = 64 << 10
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultPageSocket        = "/ws/"
)

// Validate reports fields that can never work. It does not fill defaults.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			bad("addr %q: %v", c.Addr, err)
		}
	}
	for _, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			bad("trusted_proxies: %v", err)
		}
	}
	for _, o := range c.AllowedOrigins {
		if strings.TrimSpace(o) == "" {
			bad("allowed_origins: empty entry")
		}
	}
	for name, v := range map[string]int64{
		"read_limit": c.ReadLimit, "read_buffer_size": int64(c.ReadBufferSize),
		"write_buffer_size": int64(c.WriteBufferSize), "send_queue": int64(c.SendQueue),
		"body_chunk": int64(c.BodyChunk),
	} {
		if v < 0 {
			bad("%s must not be negative, got %d", name, v)
		}
	}
	for name, v := range map[string]time.Duration{
		"write_timeout": c.WriteTimeout, "send_timeout": c.SendTimeout, "pong_timeout": c.PongTimeout,
		"handshake_timeout": c.HandshakeTimeout, "close_timeout": c.CloseTimeout,
		"read_header_timeout": c.ReadHeaderTimeout, "idle_timeout": c.IdleTimeout,
	} {
		if v < 0 {
			bad("%s must not be negative, got %v", name, v)
		}
	}
	if err := c.Listener.Check("listener"); err != nil {
		bad("%v", err)
	}
	for name, p := range map[string]string{"page_path": c.PagePath, "page_socket": c.PageSocket} {
		if p != "" && !strings.HasPrefix(p, "/") {
			bad("%s must start with /, got %q", name, p)
		}
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	def := func(p *time.Duration, d time.Duration) {
		if *p == 0 {
			*p = d
		}
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.ReadLimit == 0 {
		c.ReadLimit = DefaultReadLimit
	}
	if c.ReadBufferSize == 0 {
		c.ReadBufferSize = DefaultReadBufferSize
	}
	if c.WriteBufferSize == 0 {
		c.WriteBufferSize = DefaultWriteBufferSize
	}
	if c.SendQueue == 0 {
		c.SendQueue = DefaultSendQueue
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.BodyChunk == 0 {
		c.BodyChunk = DefaultBodyChunk
	}
	if c.PageSocket == "" {
		c.PageSocket = DefaultPageSocket
	}
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.SendTimeout, DefaultSendTimeout)
	def(&c.PingInterval, DefaultPingInterval)
	def(&c.PongTimeout, DefaultPongTimeout)
	def(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	def(&c.CloseTimeout, DefaultCloseTimeout)
	def(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// Option configures what an Adapter gets as code rather than data. The
// logger is the Host's (adapters.WithLogger).
type Option func(*options)

type options struct {
	listener net.Listener
}

// WithListener makes Serve serve on ln instead of listening on
// Config.Addr, for a socket made elsewhere (systemd activation, tests on
// port 0). Serve closes it.
func WithListener(ln net.Listener) Option {
	return func(o *options) { o.listener = ln }
}

// Errors of the package. Test for them with errors.Is.
var (
	// ErrInvalidConfig is wrapped by Validate's errors.
	ErrInvalidConfig = errors.New("websocket: invalid config")
	// ErrClosed: the connection is closed or closing, or the response is
	// complete; nothing more can be sent on it. It wraps
	// scope.ErrPeerGone, so that a handler that returns it ends its scope
	// without an error in the log: a client that leaves is no failure.
	ErrClosed = fmt.Errorf("websocket: connection closed (%w)", scope.ErrPeerGone)
	// ErrSlowClient: the client read so slowly that its send queue
	// overflowed; it was disconnected with 1013.
	ErrSlowClient = errors.New("websocket: client too slow; disconnected")
	// ErrNotAccepted: a message was sent before the connection was
	// accepted.
	ErrNotAccepted = errors.New("websocket: connection not accepted yet")
	// ErrAccepted: websocket.accept was sent twice.
	ErrAccepted = errors.New("websocket: connection already accepted")
	// ErrResponseState: an http.response.* event out of order (a body
	// before the start, a second start).
	ErrResponseState = errors.New("websocket: http response event out of order")
	// ErrUnsupportedEvent: an outbound event this adapter cannot send.
	ErrUnsupportedEvent = errors.New("websocket: unsupported outbound event")
	// ErrForeignScope: Handler served a scope that this package's adapter
	// did not create.
	ErrForeignScope = errors.New("websocket: scope not created by this adapter")
)
