package server

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// The login limits (see Config) are kept in memory, per server node: with
// N nodes behind a load balancer an attacker gets at most N times the
// limits. Each limiter holds at most limiterKeys keys; under a flood of
// more distinct keys than that, the least recently seen are forgotten
// first (after those whose window has passed).

// limiterKeys bounds the keys each login limiter remembers (each costs
// some 100 bytes plus 8 per hit in the window: a few tens of MB at most).
const limiterKeys = 100_000

// limiter allows at most limit hits per key in any sliding window of
// length window. It is safe for concurrent use; its clock is injected.
type limiter struct {
	limit  int
	window time.Duration
	max    int
	now    func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  list.List                // front: most recently hit
}

// bucket is a key's hits in the window (Unix nanoseconds), oldest first,
// at most limit.
type bucket struct {
	key  string
	hits []int64
}

func newLimiter(limit int, window time.Duration, maxKeys int, now func() time.Time) *limiter {
	return &limiter{limit: limit, window: window, max: maxKeys, now: now, keys: map[string]*list.Element{}}
}

// take counts a hit of key and returns true if key is under its limit;
// otherwise it counts nothing and returns how long until the next hit is
// allowed.
func (l *limiter) take(key string) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	e := l.keys[key]
	if e == nil {
		if len(l.keys) >= l.max {
			l.evict(l.lru.Back())
		}
		e = l.lru.PushFront(&bucket{key: key, hits: make([]int64, 0, min(l.limit, 8))})
		l.keys[key] = e
	}
	b := e.Value.(*bucket)
	t := now.UnixNano()
	b.expire(t, l.window)
	l.lru.MoveToFront(e)
	if len(b.hits) >= l.limit {
		return time.Duration(b.hits[0] + int64(l.window) - t), false
	}
	b.hits = append(b.hits, t)
	return 0, true
}

// reset forgets key's hits.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.keys[key]; e != nil {
		l.evict(e)
	}
}

// len returns the number of keys remembered.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// sweep forgets up to two least recently hit keys whose hits have all
// left the window: amortised, the limiter keeps only keys hit within it.
func (l *limiter) sweep(now time.Time) {
	for range 2 {
		e := l.lru.Back()
		if e == nil {
			return
		}
		b := e.Value.(*bucket)
		if len(b.hits) > 0 && now.UnixNano()-b.hits[len(b.hits)-1] < int64(l.window) {
			return
		}
		l.evict(e)
	}
}

func (l *limiter) evict(e *list.Element) {
	if e == nil {
		return
	}
	delete(l.keys, e.Value.(*bucket).key)
	l.lru.Remove(e)
}

// expire drops the hits that left the window ending at now.
func (b *bucket) expire(now int64, window time.Duration) {
	i := 0
	for i < len(b.hits) && now-b.hits[i] >= int64(window) {
		i++
	}
	if i > 0 {
		b.hits = append(b.hits[:0], b.hits[i:]...)
	}
}

// clientAddr returns the address that login attempts are counted by: the
// host of r.RemoteAddr or, with Config.TrustProxy, the last address of
// X-Forwarded-For (the one the trusted proxy in front of the server
// appended; those before it are the client's to forge). IPv6 addresses
// count by their /64 network, which one client usually holds whole.
func (s *Server) clientAddr(r *http.Request) string {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if s.cfg.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
				host = last
			}
		}
	}
	addr, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		if len(host) > 64 {
			host = host[:64]
		}
		return host
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}
