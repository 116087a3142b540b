package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)} }

// TestLimiterSlidingWindow: limit hits in any window; a refused hit is not
// counted and says how long to wait; keys are independent; reset clears.
func TestLimiterSlidingWindow(t *testing.T) {
	c := newFakeClock()
	l := newLimiter(3, 10*time.Second, 100, c.now)
	for i := range 3 {
		if _, ok := l.take("a"); !ok {
			t.Fatalf("hit %d refused", i+1)
		}
		c.advance(2 * time.Second)
	}
	// Hits at 0, 2, 4 s; now 6 s.
	if wait, ok := l.take("a"); ok || wait != 4*time.Second {
		t.Fatalf("4th hit: %v %v, want refused for 4s", wait, ok)
	}
	if _, ok := l.take("b"); !ok {
		t.Fatal("another key is limited")
	}
	c.advance(4 * time.Second) // 10 s: the hit at 0 s left the window
	if _, ok := l.take("a"); !ok {
		t.Fatal("the window did not slide")
	}
	if wait, ok := l.take("a"); ok || wait != 2*time.Second {
		t.Fatalf("at 10 s: %v %v, want refused for 2s (until the hit at 2 s leaves)", wait, ok)
	}
	l.reset("a")
	for i := range 3 {
		if _, ok := l.take("a"); !ok {
			t.Fatalf("after reset, hit %d refused", i+1)
		}
	}
	l.reset("unknown") // no panic
}

// TestLimiterBounded: the limiter never holds more than its keys, and
// forgets keys whose window passed.
func TestLimiterBounded(t *testing.T) {
	c := newFakeClock()
	l := newLimiter(5, time.Minute, 100, c.now)
	for i := range 10_000 {
		l.take(fmt.Sprint("k", i))
		if n := l.len(); n > 100 {
			t.Fatalf("%d keys after %d hits", n, i+1)
		}
	}
	// The most recent keys are kept: the last one is still limited.
	for range 4 {
		l.take("k9999")
	}
	if _, ok := l.take("k9999"); ok {
		t.Fatal("the most recent key was forgotten")
	}
	c.advance(time.Minute)
	for range 60 {
		l.take("fresh")
	}
	if n := l.len(); n > 2 {
		t.Fatalf("%d keys remembered after their window passed, want them swept", n)
	}
}

// TestLimiterConcurrent: concurrent hits of one key never exceed the
// limit.
func TestLimiterConcurrent(t *testing.T) {
	c := newFakeClock()
	l := newLimiter(7, time.Minute, 100, c.now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 50 {
		wg.Go(func() {
			if _, allowed := l.take("k"); allowed {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 7 {
		t.Fatalf("%d hits allowed, want 7", ok)
	}
}

// TestClientAddr: the peer's address, IPv6 by /64; X-Forwarded-For's last
// entry only with TrustProxy.
func TestClientAddr(t *testing.T) {
	cases := []struct {
		trust  bool
		remote string
		xff    []string
		want   string
		why    string
	}{
		{false, "192.0.2.1:5555", nil, "192.0.2.1", "IPv4 peer"},
		{false, "192.0.2.1:5555", []string{"203.0.113.9"}, "192.0.2.1", "X-Forwarded-For ignored"},
		{false, "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64", "IPv6 by /64"},
		{false, "[::ffff:192.0.2.7]:443", nil, "192.0.2.7", "IPv4-mapped"},
		{true, "10.0.0.1:1234", []string{"203.0.113.9, 198.51.100.7"}, "198.51.100.7", "the proxy's entry"},
		{true, "10.0.0.1:1234", []string{"203.0.113.9", "198.51.100.8"}, "198.51.100.8", "last header"},
		{true, "10.0.0.1:1234", nil, "10.0.0.1", "no header"},
		{true, "10.0.0.1:1234", []string{"2001:db8::1"}, "2001:db8::/64", "IPv6 forwarded"},
	}
	for _, c := range cases {
		s := &Server{cfg: Config{TrustProxy: c.trust}}
		r := httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientAddr(r); got != c.want {
			t.Errorf("%s: got %q, want %q", c.why, got, c.want)
		}
	}
}
