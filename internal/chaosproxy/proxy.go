package chaosproxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxBody bounds the request bodies the proxy buffers (the server's own limit
// is 8 MiB after decompression).
const maxBody = 64 << 20

// Proxy is the fault-injecting reverse proxy. Its admin endpoints, under
// Config.AdminPrefix:
//
//	GET  /_chaos/stats                  → Stats as JSON
//	POST /_chaos/faults?enabled=0|1     → switches faults off or on; answers Stats
//
// Create it with New.
type Proxy struct {
	cfg       Config
	target    *url.URL
	transport *http.Transport
	plain     *httputil.ReverseProxy
	decider   *Decider
	enabled   atomic.Bool

	mu       sync.Mutex
	counts   Counts
	inflight map[string]int
	requests int64
	upErrors int64
}

// Stats is what the proxy did so far.
type Stats struct {
	// Enabled tells whether faults are on.
	Enabled bool `json:"enabled"`
	// Requests counts the requests eligible for faults (under a prefix).
	Requests int64 `json:"requests"`
	// Faults counts the faults injected, by kind (None excluded).
	Faults Counts `json:"faults"`
	// Inflight counts the eligible requests in progress, by path.
	Inflight map[string]int `json:"inflight"`
	// UpstreamErrors counts the forwarded requests that failed without an
	// injected fault (the server was down, say), answered 502.
	UpstreamErrors int64 `json:"upstreamErrors"`
}

// New returns a Proxy for cfg.
func New(cfg Config) (*Proxy, error) {
	target, err := url.Parse(cfg.Target)
	if err != nil || target.Scheme == "" || target.Host == "" {
		return nil, fmt.Errorf("chaosproxy: bad target %q", cfg.Target)
	}
	if cfg.Rates == nil {
		cfg.Rates = Rates{}
	}
	if err := cfg.Rates.Validate(); err != nil {
		return nil, fmt.Errorf("chaosproxy: %w", err)
	}
	if len(cfg.Prefixes) == 0 {
		cfg.Prefixes = []string{"/api/"}
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = time.Second
	}
	if cfg.AdminPrefix == "" {
		cfg.AdminPrefix = "/_chaos/"
	}
	if cfg.Sleep == nil {
		cfg.Sleep = time.Sleep
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableCompression = true // pass the server's gzip through untouched
	tr.MaxIdleConnsPerHost = 64
	p := &Proxy{
		cfg:       cfg,
		target:    target,
		transport: tr,
		decider:   NewDecider(cfg.Seed, cfg.Rates),
		counts:    Counts{},
		inflight:  map[string]int{},
	}
	p.plain = httputil.NewSingleHostReverseProxy(target)
	p.plain.Transport = tr
	p.plain.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, "chaosproxy: upstream: "+err.Error(), http.StatusBadGateway)
	}
	p.enabled.Store(!cfg.Disabled)
	return p, nil
}

// SetEnabled switches faults on or off.
func (p *Proxy) SetEnabled(on bool) { p.enabled.Store(on) }

// Stats returns a snapshot of what the proxy did.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Enabled: p.enabled.Load(), Requests: p.requests, Faults: Counts{}, Inflight: map[string]int{}, UpstreamErrors: p.upErrors}
	for _, k := range Kinds {
		s.Faults[k] = p.counts[k]
	}
	for k, v := range p.inflight {
		if v > 0 {
			s.Inflight[k] = v
		}
	}
	return s
}

// Close releases the proxy's idle upstream connections.
func (p *Proxy) Close() { p.transport.CloseIdleConnections() }

func (p *Proxy) eligible(path string) bool {
	for _, pre := range p.cfg.Prefixes {
		if strings.HasPrefix(path, pre) {
			return true
		}
	}
	return false
}

// ServeHTTP serves the admin endpoints, forwards requests outside the
// prefixes untouched and the others with the next decision's fault.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, p.cfg.AdminPrefix) {
		p.serveAdmin(w, r)
		return
	}
	if !p.eligible(r.URL.Path) {
		p.plain.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "chaosproxy: cannot read the request body", http.StatusBadRequest)
		return
	}
	d := Decision{Kind: None}
	if p.enabled.Load() {
		d = p.decider.Next()
	}
	p.begin(r.URL.Path, d.Kind)
	defer p.end(r.URL.Path)

	switch d.Kind {
	case DropRequest:
		panic(http.ErrAbortHandler) // closes the connection, no answer
	case Error500:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"code": "EINTERNAL", "message": "chaosproxy: injected 500"})
		return
	case Delay:
		p.cfg.Sleep(time.Duration(d.Frac * float64(p.cfg.MaxDelay)))
	case TruncateRequest:
		if len(body) == 0 {
			// Nothing to cut: the request breaks off before it is whole.
			http.Error(w, "chaosproxy: request truncated", http.StatusBadGateway)
			return
		}
		cut := int(d.Frac * float64(len(body)))
		rd := io.MultiReader(bytes.NewReader(body[:cut]), errReader{})
		resp, err := p.roundTrip(r, rd, int64(len(body)))
		if err == nil {
			// The server answered without reading the whole body.
			p.relay(w, resp, -1)
			return
		}
		http.Error(w, "chaosproxy: request truncated", http.StatusBadGateway)
		return
	case Duplicate:
		if d.Variant == 1 {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				if resp, err := p.roundTrip(r, bytes.NewReader(body), int64(len(body))); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
			resp, err := p.roundTrip(r, bytes.NewReader(body), int64(len(body)))
			wg.Wait()
			p.relayOrFail(w, resp, err, -1)
			return
		}
		if resp, err := p.roundTrip(r, bytes.NewReader(body), int64(len(body))); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}

	resp, err := p.roundTrip(r, bytes.NewReader(body), int64(len(body)))
	switch d.Kind {
	case DropResponse:
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body) // let the server finish
			resp.Body.Close()
		}
		if d.Variant == 1 {
			http.Error(w, "chaosproxy: answer lost", http.StatusBadGateway)
			return
		}
		panic(http.ErrAbortHandler)
	case TruncateResponse:
		p.relayOrFail(w, resp, err, d.Frac)
		return
	}
	p.relayOrFail(w, resp, err, -1)
}

func (p *Proxy) begin(path string, k Kind) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if k != None {
		p.counts[k]++
	}
	p.inflight[path]++
}

func (p *Proxy) end(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight[path]--
}

// roundTrip sends r upstream with body.
func (p *Proxy) roundTrip(r *http.Request, body io.Reader, n int64) (*http.Response, error) {
	u := *p.target
	u.Path = strings.TrimSuffix(p.target.Path, "/") + r.URL.Path
	u.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), body)
	if err != nil {
		return nil, err
	}
	out.ContentLength = n
	if n == 0 {
		out.Body = http.NoBody
	}
	out.Header = r.Header.Clone()
	removeHopHeaders(out.Header)
	out.Host = r.Host
	return p.transport.RoundTrip(out)
}

// relayOrFail relays resp, or answers 502 for err.
func (p *Proxy) relayOrFail(w http.ResponseWriter, resp *http.Response, err error, frac float64) {
	if err != nil {
		p.mu.Lock()
		p.upErrors++
		p.mu.Unlock()
		http.Error(w, "chaosproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	p.relay(w, resp, frac)
}

// relay copies resp to w. With 0 ≤ frac < 1 only that fraction of the body
// is sent, under the full Content-Length, and the connection is closed.
func (p *Proxy) relay(w http.ResponseWriter, resp *http.Response, frac float64) {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = append([]string(nil), vs...)
	}
	removeHopHeaders(h)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(resp.StatusCode)
	if frac < 0 {
		_, _ = w.Write(body)
		return
	}
	_, _ = w.Write(body[:int(frac*float64(len(body)))])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
}

func (p *Proxy) serveAdmin(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, p.cfg.AdminPrefix) {
	case "stats":
		writeJSON(w, http.StatusOK, p.Stats())
	case "faults":
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		switch r.URL.Query().Get("enabled") {
		case "0", "false", "off":
			p.SetEnabled(false)
		case "1", "true", "on":
			p.SetEnabled(true)
		default:
			http.Error(w, "enabled=0|1", http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusOK, p.Stats())
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// hopHeaders are the hop-by-hop headers a proxy must not forward.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopHeaders(h http.Header) {
	for _, f := range h.Values("Connection") {
		for _, name := range strings.Split(f, ",") {
			h.Del(strings.TrimSpace(name))
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
}

// errReader fails every read: the end of a truncated request body.
type errReader struct{}

func (errReader) Read([]byte) (int, error) {
	return 0, errors.New("chaosproxy: request body truncated")
}
