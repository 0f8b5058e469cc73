package dbtest

import (
	"net"
	"net/url"
	gosync "sync"
	"sync/atomic"
	"testing"
)

// Proxy is a TCP proxy in front of a test database that a test can freeze, to play a database
// that stops answering, or cut, to play a database that restarts (every session ends, and new
// connections are served). A frozen proxy still accepts connections and reads whatever clients
// send, but forwards nothing in either direction. A side that closes its connection closes the
// other side too (at once while frozen, after forwarding what is pending otherwise), so the
// server ends the session of a client that gave up, and drops its locks.
type Proxy struct {
	ln     net.Listener
	target string

	mu     gosync.Mutex
	cond   *gosync.Cond
	frozen bool
	held   bool // HoldReplies: nothing is forwarded from the server
	closed bool
	closes []func() // one per proxied connection pair
	hangUp []func() // likewise: hang up on the client only (Partition)
	wg     gosync.WaitGroup
}

// NewProxy starts a proxy in front of the server of dbURL and returns it with the URL of the
// same database through the proxy. It is closed when the test ends; close it earlier (before
// the pools on it close) after a Freeze: pgx closes a connection whose statement timed out in
// the background, after a cancel request that a frozen proxy holds for 15 s, and a pool's
// Close waits for that.
func NewProxy(t testing.TB, dbURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("dbtest: parsing the database URL: invalid URL")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("dbtest: starting the proxy: %v", err)
	}
	p := &Proxy{ln: ln, target: u.Host}
	p.cond = gosync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	pu := *u
	pu.Host = ln.Addr().String()
	return p, pu.String()
}

// Freeze stops forwarding: from now on the database seems to accept connections and never
// answer.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = true
	p.cond.Broadcast()
}

// Cut closes every connection proxied so far (and ends HoldReplies), as a database restart
// does: the server ends their sessions, dropping their locks and temporary tables. New
// connections are proxied as before.
func (p *Proxy) Cut() {
	p.mu.Lock()
	closes := p.closes
	p.closes, p.hangUp = nil, nil
	p.held = false
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, c := range closes {
		c()
	}
}

// Partition hangs up on every client proxied so far and keeps their server sides open, as a
// network partition leaves a half-open connection: the client sees its connection lost, and
// the server's session lives on, idle (inside its transaction, if any) until Cut or Close.
func (p *Proxy) Partition() {
	p.mu.Lock()
	hangUp := p.hangUp
	p.hangUp = nil
	p.mu.Unlock()
	for _, h := range hangUp {
		h()
	}
}

// HoldReplies stops forwarding what the server sends, on every connection, until Cut: a
// statement sent now runs on the server, and its client never hears the answer.
func (p *Proxy) HoldReplies() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = true
	p.cond.Broadcast()
}

// Close stops the proxy and closes every proxied connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	closes := p.closes
	p.cond.Broadcast()
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range closes {
		c()
	}
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		closeBoth := gosync.OnceFunc(func() {
			_ = client.Close()
			_ = server.Close()
		})
		var half atomic.Bool // partitioned: an error closes the client side only
		hangUp := func() {
			half.Store(true)
			_ = client.Close()
		}
		onErr := func() {
			if half.Load() {
				_ = client.Close()
				return
			}
			closeBoth()
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			closeBoth()
			return
		}
		p.closes = append(p.closes, closeBoth)
		p.hangUp = append(p.hangUp, hangUp)
		p.mu.Unlock()
		for i, dir := range [][2]net.Conn{{client, server}, {server, client}} {
			q := &pending{fromServer: i == 1}
			p.wg.Add(2)
			go p.read(dir[0], q, onErr)
			go p.write(dir[1], q, onErr)
		}
	}
}

// pending is what one direction has read and not yet forwarded.
type pending struct {
	chunks     [][]byte
	eof        bool // the source side is gone
	fromServer bool // the server's side: held by HoldReplies
}

// stopped reports whether q forwards nothing for now (Freeze, HoldReplies). Called with p.mu
// held.
func (p *Proxy) stopped(q *pending) bool { return p.frozen || (q.fromServer && p.held) }

func (p *Proxy) read(src net.Conn, q *pending, closeBoth func()) {
	defer p.wg.Done()
	for {
		b := make([]byte, 32<<10)
		n, err := src.Read(b)
		p.mu.Lock()
		if n > 0 {
			q.chunks = append(q.chunks, b[:n])
		}
		if err != nil {
			q.eof = true
		}
		frozen := p.stopped(q)
		p.cond.Broadcast()
		p.mu.Unlock()
		if err != nil {
			if frozen {
				closeBoth() // nothing more will be forwarded: hang up on the other side now
			}
			return
		}
	}
}

func (p *Proxy) write(dst net.Conn, q *pending, closeBoth func()) {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		// Done when the proxy closed, or the source is gone and nothing more will be forwarded.
		done := func() bool { return p.closed || (q.eof && (p.stopped(q) || len(q.chunks) == 0)) }
		for !done() && (p.stopped(q) || len(q.chunks) == 0) {
			p.cond.Wait()
		}
		if done() {
			p.mu.Unlock()
			closeBoth()
			return
		}
		b := q.chunks[0]
		q.chunks = q.chunks[1:]
		p.mu.Unlock()
		if _, err := dst.Write(b); err != nil {
			closeBoth()
			return
		}
	}
}
