// Package httpsync is a sync protocol client over net/http: the transport of
// native Go clients (tools, tests, benchmarks). The browser uses package
// syncjs, which speaks the same protocol through fetch.
package httpsync

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/wire"
	"github.com/datacollect/datacollect/wire/envelope"
)

// Client talks to one server for one app and device.
type Client struct {
	// BaseURL is the server's root, e.g. http://127.0.0.1:8080.
	BaseURL string
	// AppID is the app (tenant) logged in to.
	AppID string
	// ClientID identifies the device (X-Client-ID).
	ClientID string
	// HTTP is the HTTP client (default: one without transparent
	// decompression, so that byte counts are the wire's).
	HTTP *http.Client
	// ContentType is wire.MsgPack (default) or wire.JSON.
	ContentType string
	// Gzip compresses request bodies.
	Gzip bool
	// Version overrides the X-Sync-Version sent (tests).
	Version string

	mu      sync.Mutex
	token   string
	refresh string          // the single-use refresh token, when the server gave one
	seal    *envelope.Codec // the app key's codec, once known
	renewMu sync.Mutex      // one refresh at a time (a refresh token is single-use)

	sent, received atomic.Int64
}

var _ client.Transport = (*Client)(nil)
var _ client.ByteCounter = (*Client)(nil)

var defaultHTTP = &http.Client{Transport: &http.Transport{
	DisableCompression:  true,
	MaxIdleConnsPerHost: 64,
	Proxy:               nil,
}}

// SetToken sets the bearer token.
func (c *Client) SetToken(t string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = t
}

// Token returns the bearer token.
func (c *Client) Token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// Bytes implements client.ByteCounter.
func (c *Client) Bytes() (sent, received int64) { return c.sent.Load(), c.received.Load() }

// SetAppKey sets the app's envelope key and its id (LoginResponse.AppKey
// and AppKeyID): from then on pushes are sealed and pulls asked sealed
// and opened (package wire/envelope). A nil key goes back to plain data. A
// key that is not 32 bytes or does not match id is ECRYPTO.
func (c *Client) SetAppKey(key []byte, id string) error {
	var codec *envelope.Codec
	if key != nil {
		if id != envelope.KeyID(key) {
			return dc.Errorf(dc.ECRYPTO, "envelope key does not match its id %q", id)
		}
		var err error
		if codec, err = envelope.NewGoCodec(c.AppID, key); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seal = codec
	return nil
}

func (c *Client) codec() *envelope.Codec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seal
}

// Login exchanges credentials for a token and keeps it, and the app's
// envelope key when the server sends one (see SetAppKey).
func (c *Client) Login(ctx context.Context, email, password string) (*dc.LoginResponse, error) {
	var resp dc.LoginResponse
	err := c.do(ctx, http.MethodPost, wire.PathLogin, &dc.LoginRequest{AppID: c.AppID, Email: email, Password: password}, &resp, false)
	if err != nil {
		return nil, err
	}
	if err := c.keep(&resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// keep keeps a login answer's tokens and envelope key.
func (c *Client) keep(resp *dc.LoginResponse) error {
	if len(resp.AppKey) > 0 {
		if err := c.SetAppKey(resp.AppKey, resp.AppKeyID); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.token = resp.Token
	if resp.RefreshToken != "" {
		c.refresh = resp.RefreshToken
	}
	c.mu.Unlock()
	return nil
}

// Refresh trades the refresh token for new tokens (rotating it). Calls
// are serialised: a refresh token is single-use, and the server revokes
// the session when one is used twice.
func (c *Client) Refresh(ctx context.Context) (*dc.LoginResponse, error) {
	c.renewMu.Lock()
	defer c.renewMu.Unlock()
	return c.refreshLocked(ctx)
}

func (c *Client) refreshLocked(ctx context.Context) (*dc.LoginResponse, error) {
	c.mu.Lock()
	rt := c.refresh
	c.mu.Unlock()
	if rt == "" {
		return nil, dc.Errorf(dc.EUNAUTHORIZED, "no refresh token: log in")
	}
	var resp dc.LoginResponse
	if err := c.do(ctx, http.MethodPost, wire.PathRefresh, &dc.RefreshRequest{RefreshToken: rt}, &resp, false); err != nil {
		return nil, err
	}
	if err := c.keep(&resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Logout revokes the access token and the session's refresh tokens on the
// server, and forgets them.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	rt := c.refresh
	c.mu.Unlock()
	err := c.do(ctx, http.MethodPost, wire.PathLogout, &dc.LogoutRequest{RefreshToken: rt}, nil, true)
	c.mu.Lock()
	c.token, c.refresh = "", ""
	c.mu.Unlock()
	return err
}

// Renew exchanges the current, still valid token for a fresh one.
func (c *Client) Renew(ctx context.Context) (*dc.LoginResponse, error) {
	var resp dc.LoginResponse
	if err := c.do(ctx, http.MethodPost, wire.PathRenew, nil, &resp, true); err != nil {
		return nil, err
	}
	if err := c.keep(&resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Push implements client.Transport. With an app key, the events' data
// travels sealed (req and its events are not changed).
func (c *Client) Push(ctx context.Context, req *dc.PushRequest) (*dc.PushResponse, error) {
	if codec := c.codec(); codec != nil {
		evs, err := codec.SealEvents(ctx, req.Events)
		if err != nil {
			return nil, err
		}
		req = &dc.PushRequest{Events: evs}
	}
	var resp dc.PushResponse
	if err := c.do(ctx, http.MethodPost, wire.PathPush, req, &resp, true); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Pull implements client.Transport. With an app key, it asks for sealed
// data and opens it; sealed events without a key are ECRYPTO.
func (c *Client) Pull(ctx context.Context, q dc.PullQuery) (*dc.PullResponse, error) {
	var resp dc.PullResponse
	codec := c.codec()
	var hdr http.Header
	if codec != nil {
		hdr = http.Header{envelope.HeaderEnvelope: {"1"}, envelope.HeaderKeyID: {codec.KeyID()}}
	}
	if err := c.doHeader(ctx, http.MethodGet, wire.PullPath(q), hdr, nil, &resp, true); err != nil {
		return nil, err
	}
	if codec == nil {
		for _, ev := range resp.Events {
			if envelope.IsSealed(ev) {
				return nil, dc.Errorf(dc.ECRYPTO, "pull: the server sent sealed events but this client holds no app key: log in again")
			}
		}
		return &resp, nil
	}
	if err := codec.OpenEvents(ctx, resp.Events); err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	if err := codec.OpenAudit(ctx, resp.Audit); err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	return &resp, nil
}

// Plan implements client.Transport.
func (c *Client) Plan(ctx context.Context, since int64) (*dc.PlanResponse, error) {
	var resp dc.PlanResponse
	if err := c.do(ctx, http.MethodGet, wire.PlanPath(since), nil, &resp, true); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Report implements client.Transport.
func (c *Client) Report(ctx context.Context, r *dc.DeviceReport) error {
	return c.do(ctx, http.MethodPost, wire.PathTelemetry, r, nil, true)
}

func (c *Client) do(ctx context.Context, method, path string, in, out wire.Message, auth bool) error {
	return c.doHeader(ctx, method, path, nil, in, out, auth)
}

// doHeader is do with extra request headers. With auth, a 401 is answered
// by one refresh of the access token (when the client holds a refresh
// token) and one retry.
func (c *Client) doHeader(ctx context.Context, method, path string, hdr http.Header, in, out wire.Message, auth bool) error {
	used := c.Token()
	err := c.doOnce(ctx, method, path, hdr, in, out, auth)
	var e *dc.Error
	if !auth || !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
		return err
	}
	c.renewMu.Lock()
	if c.Token() == used { // nobody refreshed meanwhile
		if _, rerr := c.refreshLocked(ctx); rerr != nil {
			c.renewMu.Unlock()
			if o, _ := core.Classify(rerr); o == core.OutcomeRetry {
				return rerr // transient: the session may be intact, retry later
			}
			return err
		}
	}
	c.renewMu.Unlock()
	return c.doOnce(ctx, method, path, hdr, in, out, auth)
}

func (c *Client) doOnce(ctx context.Context, method, path string, hdr http.Header, in, out wire.Message, auth bool) error {
	ct := c.ContentType
	if ct == "" {
		ct = wire.MsgPack
	}
	var body io.Reader
	var n int
	gz := false
	if in != nil {
		b, err := wire.Marshal(ct, in)
		if err != nil {
			return err
		}
		if c.Gzip {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(b)
			_ = zw.Close()
			b, gz = buf.Bytes(), true
		}
		n = len(b)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return dc.Errorf(dc.EINVALID, "request: %v", err)
	}
	req.Header.Set("Accept", ct)
	req.Header.Set("Accept-Encoding", "gzip")
	if in != nil {
		req.Header.Set("Content-Type", ct)
		if gz {
			req.Header.Set("Content-Encoding", "gzip")
		}
	}
	v := c.Version
	if v == "" {
		v = dc.ProtocolVersion
	}
	req.Header.Set("X-Sync-Version", v)
	if c.ClientID != "" {
		req.Header.Set("X-Client-ID", c.ClientID)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+c.Token())
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	c.sent.Add(int64(n))
	resp, err := hc.Do(req)
	if err != nil {
		return networkError(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	c.received.Add(int64(len(raw)))
	if err != nil {
		return networkError(err)
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return dc.Errorf(dc.ENETWORK, "corrupt gzip answer: %v", err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return dc.Errorf(dc.ENETWORK, "corrupt gzip answer: %v", err)
		}
	}
	rct := resp.Header.Get("Content-Type")
	if resp.StatusCode/100 != 2 {
		return wire.ErrorOf(resp.StatusCode, resp.Header.Get("Retry-After"), rct, raw, time.Now())
	}
	if out == nil {
		return nil
	}
	return wire.Unmarshal(rct, raw, out)
}

func networkError(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return dc.Errorf(dc.ETIMEOUT, "%v", err)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return dc.Errorf(dc.ENETWORK, "%v", err)
}
