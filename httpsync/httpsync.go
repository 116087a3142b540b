// Package httpsync is a sync protocol client over net/http: the transport of
// native Go clients (tools, tests, benchmarks). The browser uses package
// syncjs, which speaks the same protocol through fetch.
package httpsync

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/wire"
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

	mu    sync.Mutex
	token string

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

// Login exchanges credentials for a token and keeps it.
func (c *Client) Login(ctx context.Context, email, password string) (*dc.LoginResponse, error) {
	var resp dc.LoginResponse
	err := c.do(ctx, http.MethodPost, wire.PathLogin, &dc.LoginRequest{AppID: c.AppID, Email: email, Password: password}, &resp, false)
	if err != nil {
		return nil, err
	}
	c.SetToken(resp.Token)
	return &resp, nil
}

// Renew exchanges the current, still valid token for a fresh one.
func (c *Client) Renew(ctx context.Context) (*dc.LoginResponse, error) {
	var resp dc.LoginResponse
	if err := c.do(ctx, http.MethodPost, wire.PathRenew, nil, &resp, true); err != nil {
		return nil, err
	}
	c.SetToken(resp.Token)
	return &resp, nil
}

// Push implements client.Transport.
func (c *Client) Push(ctx context.Context, req *dc.PushRequest) (*dc.PushResponse, error) {
	var resp dc.PushResponse
	if err := c.do(ctx, http.MethodPost, wire.PathPush, req, &resp, true); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Pull implements client.Transport.
func (c *Client) Pull(ctx context.Context, q dc.PullQuery) (*dc.PullResponse, error) {
	var resp dc.PullResponse
	if err := c.do(ctx, http.MethodGet, wire.PullPath(q), nil, &resp, true); err != nil {
		return nil, err
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
