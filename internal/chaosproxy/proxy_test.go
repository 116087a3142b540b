package chaosproxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// upstream counts the requests it served and keeps the bodies it read whole.
type upstream struct {
	srv    *httptest.Server
	hits   atomic.Int64
	mu     sync.Mutex
	bodies []string
	broken atomic.Int64 // requests whose body could not be read whole
}

const answer = `{"results":"a long enough answer to be cut somewhere in the middle"}`

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			u.broken.Add(1)
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		u.mu.Lock()
		u.bodies = append(u.bodies, string(b))
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// only returns rates giving kind to every request.
func only(k Kind) Rates { return Rates{k: 1} }

func newProxy(t *testing.T, u *upstream, rates Rates, variant int) (*httptest.Server, *Proxy) {
	t.Helper()
	p, err := New(Config{Target: u.srv.URL, Rates: rates, Seed: 7, MaxDelay: 50 * time.Millisecond})
	require.NoError(t, err)
	if variant >= 0 {
		// Find a seed whose first decision has the wanted variant.
		for seed := uint64(0); ; seed++ {
			if NewDecider(seed, rates).Next().Variant == variant {
				p.decider = NewDecider(seed, rates)
				break
			}
		}
	}
	ps := httptest.NewServer(p)
	t.Cleanup(func() { ps.Close(); p.Close() })
	return ps, p
}

func post(t *testing.T, url string) (*http.Response, []byte, error) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Post(url, "application/json", strings.NewReader(`{"events":[1,2,3,4,5,6,7,8,9]}`))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestNoFaultForwardsUntouched(t *testing.T) {
	u := newUpstream(t)
	ps, p := newProxy(t, u, Rates{}, -1)
	resp, body, err := post(t, ps.URL+"/api/v1/sync/push?x=1")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, answer, string(body))
	assert.Equal(t, int64(1), u.hits.Load())
	assert.Equal(t, int64(1), p.Stats().Requests)
}

func TestStaticRequestsAreNeverDisturbed(t *testing.T) {
	u := newUpstream(t)
	ps, p := newProxy(t, u, only(DropRequest), -1)
	for range 5 {
		resp, err := http.Get(ps.URL + "/index.html")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
	}
	assert.Equal(t, int64(0), p.Stats().Requests)
}

func TestDropRequestNeverForwards(t *testing.T) {
	u := newUpstream(t)
	ps, p := newProxy(t, u, only(DropRequest), -1)
	_, _, err := post(t, ps.URL+"/api/v1/sync/push")
	require.Error(t, err)
	assert.Equal(t, int64(0), u.hits.Load())
	assert.Equal(t, int64(1), p.Stats().Faults[DropRequest])
}

func TestDropResponseAfterTheServerProcessed(t *testing.T) {
	for _, variant := range []int{0, 1} {
		u := newUpstream(t)
		ps, p := newProxy(t, u, only(DropResponse), variant)
		resp, body, err := post(t, ps.URL+"/api/v1/sync/push")
		if variant == 0 {
			require.Error(t, err, "the connection is closed")
		} else {
			require.NoError(t, err)
			assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			assert.NotContains(t, string(body), "results")
		}
		assert.Equal(t, int64(1), u.hits.Load(), "the server processed it")
		assert.Len(t, u.bodies, 1)
		assert.Equal(t, int64(1), p.Stats().Faults[DropResponse])
	}
}

func TestError500IsNotForwarded(t *testing.T) {
	u := newUpstream(t)
	ps, _ := newProxy(t, u, only(Error500), -1)
	resp, body, err := post(t, ps.URL+"/api/v1/sync/push")
	require.NoError(t, err)
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, string(body), "EINTERNAL")
	assert.Equal(t, int64(0), u.hits.Load())
}

func TestDuplicateDeliversTwice(t *testing.T) {
	for _, variant := range []int{0, 1} {
		u := newUpstream(t)
		ps, p := newProxy(t, u, only(Duplicate), variant)
		resp, body, err := post(t, ps.URL+"/api/v1/sync/push")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, answer, string(body))
		assert.Equal(t, int64(2), u.hits.Load())
		assert.Equal(t, u.bodies[0], u.bodies[1], "the same request twice")
		assert.Equal(t, int64(1), p.Stats().Faults[Duplicate])
	}
}

func TestTruncateRequestNeverReachesTheServerWhole(t *testing.T) {
	u := newUpstream(t)
	ps, _ := newProxy(t, u, only(TruncateRequest), -1)
	resp, _, err := post(t, ps.URL+"/api/v1/sync/push")
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Empty(t, u.bodies, "no whole body reached the server")
}

func TestTruncateResponseCutsTheBody(t *testing.T) {
	u := newUpstream(t)
	ps, _ := newProxy(t, u, only(TruncateResponse), -1)
	resp, body, err := post(t, ps.URL+"/api/v1/sync/push")
	if err == nil {
		// The headers arrived; the body must be short of its length.
		t.Fatalf("want a body read error, got %d %q", resp.StatusCode, body)
	}
	assert.Equal(t, int64(1), u.hits.Load())
}

func TestDelayWaitsThenForwards(t *testing.T) {
	u := newUpstream(t)
	p, err := New(Config{Target: u.srv.URL, Rates: only(Delay), Seed: 3, MaxDelay: time.Hour})
	require.NoError(t, err)
	var slept time.Duration
	p.cfg.Sleep = func(d time.Duration) { slept = d }
	ps := httptest.NewServer(p)
	defer ps.Close()
	resp, body, err := post(t, ps.URL+"/api/x")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, answer, string(body))
	assert.Greater(t, slept, time.Duration(0))
	assert.Less(t, slept, time.Hour)
}

func TestFaultsOffAtRunTime(t *testing.T) {
	u := newUpstream(t)
	ps, p := newProxy(t, u, only(Error500), -1)
	resp, err := http.Post(ps.URL+"/_chaos/faults?enabled=0", "", nil)
	require.NoError(t, err)
	var st Stats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	resp.Body.Close()
	assert.False(t, st.Enabled)
	for range 3 {
		resp, _, err := post(t, ps.URL+"/api/v1/sync/push")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
	}
	assert.Equal(t, int64(0), p.Stats().Faults[Error500])
	p.SetEnabled(true)
	resp, _, err = post(t, ps.URL+"/api/v1/sync/push")
	require.NoError(t, err)
	assert.Equal(t, 500, resp.StatusCode)
}

func TestUpstreamDownIs502(t *testing.T) {
	u := newUpstream(t)
	ps, p := newProxy(t, u, Rates{}, -1)
	u.srv.Close()
	resp, _, err := post(t, ps.URL+"/api/v1/sync/push")
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, int64(1), p.Stats().UpstreamErrors)
}

func TestSeedReproducesTheDecisions(t *testing.T) {
	rates := Even(0.5)
	seq := func(seed uint64) []Decision {
		d := NewDecider(seed, rates)
		out := make([]Decision, 500)
		for i := range out {
			out[i] = d.Next()
		}
		return out
	}
	a, b, c := seq(1), seq(1), seq(2)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	n := Counts{}
	for _, d := range a {
		n[d.Kind]++
	}
	for _, k := range Kinds {
		assert.Greater(t, n[k], int64(10), "every kind is drawn: %s", n)
	}
	assert.InDelta(t, 250, n[None], 50)
}

func TestSeedReproducesThroughTheProxy(t *testing.T) {
	run := func() []int {
		u := newUpstream(t)
		p, err := New(Config{Target: u.srv.URL, Rates: Rates{Error500: 0.3, Duplicate: 0.3}, Seed: 42})
		require.NoError(t, err)
		ps := httptest.NewServer(p)
		defer ps.Close()
		var out []int
		for range 40 {
			resp, _, err := post(t, ps.URL+"/api/v1/sync/push")
			require.NoError(t, err)
			out = append(out, resp.StatusCode*10+int(u.hits.Load()%10))
		}
		return out
	}
	assert.Equal(t, run(), run())
}

func TestParseRates(t *testing.T) {
	r, err := ParseRates(Even(0.7), "delay=0, error-500=0.2")
	require.NoError(t, err)
	assert.Equal(t, 0.0, r[Delay])
	assert.Equal(t, 0.2, r[Error500])
	assert.InDelta(t, 0.1, r[DropRequest], 1e-9)
	_, err = ParseRates(nil, "nope=0.1")
	assert.Error(t, err)
	_, err = ParseRates(nil, "delay=0.6,error-500=0.6")
	assert.Error(t, err)
	_, err = New(Config{Target: "http://x", Rates: Rates{Delay: 2}})
	assert.Error(t, err)
	assert.Equal(t, "a=1 b=2", Counts{"b": 2, "a": 1}.String())
}
