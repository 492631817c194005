package xmpptest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy relays TCP connections to the server, and can cut them all at
// once, the way a network failure does: the server sees the client's
// connection drop, and the client sees its own drop.
type Proxy struct {
	ln    net.Listener
	to    string
	mu    sync.Mutex
	conns map[net.Conn]*atomic.Bool // each connection's blackhole switch
	wg    sync.WaitGroup
}

// Proxy starts a proxy to the server, closed when the test ends.
func (s *Server) Proxy(t testing.TB) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, to: s.addr, conns: map[net.Conn]*atomic.Bool{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.Drop()
		p.wg.Wait()
	})
	return p
}

// Addr returns the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Blackhole makes every connection relayed so far drop what it carries,
// both ways, and stay open: a link that died without a word, which only
// a timeout finds.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, hole := range p.conns {
		hole.Store(true)
	}
}

// Drop closes every connection relayed so far.
func (p *Proxy) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.to)
		if err != nil {
			c.Close()
			continue
		}
		hole := new(atomic.Bool)
		p.mu.Lock()
		p.conns[c], p.conns[up] = hole, hole
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				if n > 0 && !hole.Load() {
					if _, werr := dst.Write(buf[:n]); werr != nil {
						err = werr
					}
				}
				if err != nil {
					break
				}
			}
			dst.Close()
			src.Close()
		}
		p.wg.Go(func() { pipe(up, c) })
		p.wg.Go(func() { pipe(c, up) })
	}
}
