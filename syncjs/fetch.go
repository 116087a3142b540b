//go:build js && wasm

package syncjs

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/wire"
	"github.com/datacollect/datacollect/wire/envelope"
)

// FetchTransport speaks the sync protocol through the browser's fetch (no
// net/http in the wasm): MessagePack bodies, requests gzip-compressed with
// CompressionStream, answers decompressed by the browser.
type FetchTransport struct {
	// BaseURL is the server's root ("" means this page's origin).
	BaseURL string
	// ClientID identifies the device (X-Client-ID).
	ClientID string

	// Refresh, when set, is called once when the server refuses the
	// access token (401): it exchanges the session's refresh token for a
	// new access token, which the request is retried with.
	Refresh func(ctx context.Context) (token string, err error)

	mu    sync.Mutex
	token string

	// sealer seals pushes and opens pulls under the app's envelope key
	// (nil: the session holds none; the server may refuse plain pushes).
	sealer atomic.Pointer[Sealer]

	sent, received atomic.Int64
}

var _ client.Transport = (*FetchTransport)(nil)

// SetToken sets the bearer token.
func (t *FetchTransport) SetToken(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.token = tok
}

func (t *FetchTransport) bearer() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.token
}

// SetAppKey sets the app's envelope key (from a login or refresh answer,
// or the stored session); an empty key removes it.
func (t *FetchTransport) SetAppKey(app string, key []byte, keyID string) error {
	if len(key) == 0 {
		t.sealer.Store(nil)
		return nil
	}
	s, err := NewSealer(app, key, keyID)
	if err != nil {
		return err
	}
	t.sealer.Store(s)
	return nil
}

// Bytes implements client.ByteCounter.
func (t *FetchTransport) Bytes() (int64, int64) { return t.sent.Load(), t.received.Load() }

// Login exchanges credentials for a token.
func (t *FetchTransport) Login(ctx context.Context, app, email, password string) (*dc.LoginResponse, error) {
	var resp dc.LoginResponse
	if err := t.do(ctx, "POST", wire.PathLogin, &dc.LoginRequest{AppID: app, Email: email, Password: password}, &resp, false); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Renew exchanges a still valid token for a fresh one.
func (t *FetchTransport) Renew(ctx context.Context) (*dc.LoginResponse, error) {
	var resp dc.LoginResponse
	if err := t.do(ctx, "POST", wire.PathRenew, nil, &resp, true); err != nil {
		return nil, err
	}
	return &resp, nil
}

// RefreshTokens exchanges a refresh token for new tokens (the refresh
// token is single-use: the answer carries the next one).
func (t *FetchTransport) RefreshTokens(ctx context.Context, refreshToken string) (*dc.LoginResponse, error) {
	var resp dc.LoginResponse
	if err := t.do(ctx, "POST", wire.PathRefresh, &dc.RefreshRequest{RefreshToken: refreshToken}, &resp, false); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Logout revokes the access token and, when given, the refresh token's
// family on the server.
func (t *FetchTransport) Logout(ctx context.Context, refreshToken string) error {
	return t.do(ctx, "POST", wire.PathLogout, &dc.LogoutRequest{RefreshToken: refreshToken}, nil, true)
}

// Push implements client.Transport: the events' data go sealed when the
// transport holds the app's key.
func (t *FetchTransport) Push(ctx context.Context, req *dc.PushRequest) (*dc.PushResponse, error) {
	if s := t.sealer.Load(); s != nil {
		sealed, err := s.SealPush(ctx, req)
		if err != nil {
			return nil, err
		}
		req = sealed
	}
	var resp dc.PushResponse
	if err := t.do(ctx, "POST", wire.PathPush, req, &resp, true); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Pull implements client.Transport: with the app's key it asks for sealed
// events and opens them; an envelope that fails to open is ECRYPTO and
// nothing of the page is applied.
func (t *FetchTransport) Pull(ctx context.Context, q dc.PullQuery) (*dc.PullResponse, error) {
	var resp dc.PullResponse
	s := t.sealer.Load()
	var h map[string]string
	if s != nil {
		h = map[string]string{envelope.HeaderEnvelope: "1", envelope.HeaderKeyID: s.KeyID()}
	}
	if err := t.doH(ctx, "GET", wire.PullPath(q), h, nil, &resp, true); err != nil {
		return nil, err
	}
	if s != nil {
		if err := s.OpenPull(ctx, &resp); err != nil {
			return nil, err
		}
	} else {
		for _, ev := range resp.Events {
			if envelope.IsSealed(ev) {
				return nil, dc.Errorf(dc.ECRYPTO, "the server sealed the events and this device holds no key: log in again")
			}
		}
	}
	return &resp, nil
}

// Plan implements client.Transport.
func (t *FetchTransport) Plan(ctx context.Context, since int64) (*dc.PlanResponse, error) {
	var resp dc.PlanResponse
	if err := t.do(ctx, "GET", wire.PlanPath(since), nil, &resp, true); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Report implements client.Transport.
func (t *FetchTransport) Report(ctx context.Context, r *dc.DeviceReport) error {
	return t.do(ctx, "POST", wire.PathTelemetry, r, nil, true)
}

// gzipThreshold is the body size from which requests are compressed.
const gzipThreshold = 1024

// do sends a request; with auth, a 401 is answered by one refresh of the
// access token (when Refresh is set) and one retry.
func (t *FetchTransport) do(ctx context.Context, method, path string, in, out wire.Message, auth bool) error {
	return t.doH(ctx, method, path, nil, in, out, auth)
}

// doH is do with extra request headers.
func (t *FetchTransport) doH(ctx context.Context, method, path string, extra map[string]string, in, out wire.Message, auth bool) error {
	err := t.doOnce(ctx, method, path, extra, in, out, auth)
	if !auth || t.Refresh == nil {
		return err
	}
	var e *dc.Error
	if !errors.As(err, &e) || e.Status != 401 || t.bearer() == "" {
		return err
	}
	if _, rerr := t.Refresh(ctx); rerr != nil {
		if o, _ := core.Classify(rerr); o == core.OutcomeRetry {
			// The refresh itself failed transiently (network, 5xx,
			// timeout): the session may well be intact, so retry later
			// rather than ask the user to log in again.
			return rerr
		}
		return err // the session is over: the caller sees the 401
	}
	return t.doOnce(ctx, method, path, extra, in, out, auth)
}

func (t *FetchTransport) doOnce(ctx context.Context, method, path string, extra map[string]string, in, out wire.Message, auth bool) error {
	headers := jsObject.New()
	for k, v := range extra {
		headers.Set(k, v)
	}
	headers.Set("Accept", wire.MsgPack)
	headers.Set("X-Sync-Version", dc.ProtocolVersion)
	if t.ClientID != "" {
		headers.Set("X-Client-ID", t.ClientID)
	}
	if auth {
		tok := t.bearer()
		if tok == "" {
			// No session: the server would answer 401.
			return &dc.Error{Code: dc.EUNAUTHORIZED, Message: "not logged in", Status: 401}
		}
		headers.Set("Authorization", "Bearer "+tok)
	}
	init := jsObject.New()
	init.Set("method", method)
	init.Set("headers", headers)
	init.Set("cache", "no-store")
	if in != nil {
		b, err := wire.Marshal(wire.MsgPack, in)
		if err != nil {
			return err
		}
		body := bytesToJS(b)
		if len(b) >= gzipThreshold && js.Global().Get("CompressionStream").Truthy() {
			if z, err := gzipJS(ctx, body); err == nil {
				body = z
				headers.Set("Content-Encoding", "gzip")
			}
		}
		headers.Set("Content-Type", wire.MsgPack)
		init.Set("body", body)
		t.sent.Add(int64(body.Get("byteLength").Int()))
	}
	resp, err := await(ctx, js.Global().Call("fetch", strings.TrimRight(t.BaseURL, "/")+path, init))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return dc.Errorf(dc.ENETWORK, "%s %s: %v", method, path, err)
	}
	buf, err := await(ctx, resp.Call("arrayBuffer"))
	if err != nil {
		return dc.Errorf(dc.ENETWORK, "%s %s: reading the answer: %v", method, path, err)
	}
	raw := bytesFromJS(buf)
	wireLen := int64(len(raw))
	if cl := resp.Get("headers").Call("get", "Content-Length"); cl.Type() == js.TypeString {
		if n, err := strconv.ParseInt(cl.String(), 10, 64); err == nil {
			wireLen = n
		}
	}
	t.received.Add(wireLen)
	ct := ""
	if v := resp.Get("headers").Call("get", "Content-Type"); v.Type() == js.TypeString {
		ct = v.String()
	}
	status := resp.Get("status").Int()
	if status/100 != 2 {
		ra := ""
		if v := resp.Get("headers").Call("get", "Retry-After"); v.Type() == js.TypeString {
			ra = v.String()
		}
		return wire.ErrorOf(status, ra, ct, raw, time.Now())
	}
	if out == nil {
		return nil
	}
	return wire.Unmarshal(ct, raw, out)
}

// gzipJS compresses a Uint8Array with the browser's CompressionStream.
func gzipJS(ctx context.Context, data js.Value) (js.Value, error) {
	blob := js.Global().Get("Blob").New([]any{data})
	stream := blob.Call("stream").Call("pipeThrough", js.Global().Get("CompressionStream").New("gzip"))
	ab, err := await(ctx, js.Global().Get("Response").New(stream).Call("arrayBuffer"))
	if err != nil {
		return js.Undefined(), err
	}
	return js.Global().Get("Uint8Array").New(ab), nil
}
