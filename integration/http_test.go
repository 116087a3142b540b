//go:build !js

package integration

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/httpsync"
	"github.com/datacollect/datacollect/wire"
)

// raw sends a request and returns the status and the decoded error (if any).
type rawReq struct {
	method, path string
	body         []byte
	headers      map[string]string
}

func (e *env) raw(t *testing.T, r rawReq) (int, dc.ErrorResponse, []byte) {
	t.Helper()
	req, err := http.NewRequest(r.method, e.http.URL+r.path, bytes.NewReader(r.body))
	require.NoError(t, err)
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var er dc.ErrorResponse
	if resp.StatusCode/100 != 2 {
		require.NoError(t, wire.Unmarshal(resp.Header.Get("Content-Type"), b, &er), "error bodies decode: %q", b)
	}
	return resp.StatusCode, er, b
}

func syncHeaders(token string) map[string]string {
	return map[string]string{
		"Authorization": "Bearer " + token, "X-Client-ID": "raw-test", "X-Sync-Version": dc.ProtocolVersion,
		"Content-Type": wire.JSON, "Accept": wire.JSON,
	}
}

func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func TestBadRequestsAreClear4xxAndStoreNothing(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		d := e.device("app1")
		tok := d.tr.Token()
		h := syncHeaders(tok)
		good := `{"events":[{"guid":"e1","entityGuid":"p1","type":"create-individual","data":{"name":"A"},"timestamp":"2026-11-25T08:00:00.000Z","userId":"u","syncLevel":"LOCAL","baseVersion":0}]}`
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(bytes.Repeat([]byte(" "), 2<<20)) // 2 MiB of spaces, compressed to a few KiB
		_ = zw.Close()
		many := `{"events":[` + strings.TrimSuffix(strings.Repeat(`{"guid":"x"},`, 1001), ",") + `]}`
		cases := []struct {
			name   string
			req    rawReq
			status int
			code   string
			msg    string
		}{
			{"garbage msgpack", rawReq{"POST", "/api/v1/sync/push", []byte{0xc1, 0xff, 0x00}, with(h, "Content-Type", wire.MsgPack)}, 400, dc.EINVALID, "MessagePack"},
			{"unknown JSON field", rawReq{"POST", "/api/v1/sync/push", []byte(`{"evnts":[]}`), h}, 400, dc.EINVALID, "unknown field"},
			{"wrong JSON type", rawReq{"POST", "/api/v1/sync/push", []byte(`{"events":"all of them"}`), h}, 400, dc.EINVALID, "JSON"},
			{"trailing data", rawReq{"POST", "/api/v1/sync/push", []byte(good + `{}`), h}, 400, dc.EINVALID, "trailing"},
			{"empty body", rawReq{"POST", "/api/v1/sync/push", nil, h}, 400, dc.EINVALID, "empty"},
			{"no events", rawReq{"POST", "/api/v1/sync/push", []byte(`{"events":[]}`), h}, 400, dc.EINVALID, "no events"},
			{"oversized body", rawReq{"POST", "/api/v1/sync/push", bytes.Repeat([]byte(" "), 2<<20), h}, 413, dc.ETOOLARGE, "larger"},
			{"gzip bomb", rawReq{"POST", "/api/v1/sync/push", gz.Bytes(), with(h, "Content-Encoding", "gzip")}, 413, dc.ETOOLARGE, "larger"},
			{"too many events", rawReq{"POST", "/api/v1/sync/push", []byte(many), h}, 413, dc.ETOOLARGE, "at most"},
			{"bad content type", rawReq{"POST", "/api/v1/sync/push", []byte(good), with(h, "Content-Type", "text/plain")}, 400, dc.EINVALID, "Content-Type"},
			{"bad encoding", rawReq{"POST", "/api/v1/sync/push", []byte(good), with(h, "Content-Encoding", "br")}, 400, dc.EINVALID, "Content-Encoding"},
			{"no version", rawReq{"POST", "/api/v1/sync/push", []byte(good), with(h, "X-Sync-Version", "")}, 400, dc.EINVALID, "X-Sync-Version"},
			{"other major", rawReq{"POST", "/api/v1/sync/push", []byte(good), with(h, "X-Sync-Version", "2.0.0")}, 426, dc.EVERSION, "update the app"},
			{"no client id", rawReq{"POST", "/api/v1/sync/push", []byte(good), with(h, "X-Client-ID", "")}, 400, dc.EINVALID, "X-Client-ID"},
			{"no token", rawReq{"POST", "/api/v1/sync/push", []byte(good), with(h, "Authorization", "")}, 401, dc.EUNAUTHORIZED, "Bearer"},
			{"bad since", rawReq{"GET", "/api/v1/sync/pull?since=-4", nil, h}, 400, dc.EINVALID, "since"},
			{"bad limit", rawReq{"GET", "/api/v1/sync/pull?limit=many", nil, h}, 400, dc.EINVALID, "limit"},
			{"no such endpoint", rawReq{"GET", "/api/v1/nothing", nil, h}, 404, dc.ENOTFOUND, "no API endpoint"},
		}
		for _, tc := range cases {
			status, er, _ := e.raw(t, tc.req)
			assert.Equal(t, tc.status, status, tc.name)
			assert.Equal(t, tc.code, er.Code, tc.name)
			assert.Contains(t, er.Message, tc.msg, tc.name)
		}
		n, err := e.store.CountAfter(ctx, "app1", 0)
		require.NoError(t, err)
		assert.Zero(t, n, "nothing stored by any bad request")

		// A newer minor version keeps working; JSON is available for curl.
		status, _, body := e.raw(t, rawReq{"POST", "/api/v1/sync/push", []byte(good), with(h, "X-Sync-Version", "1.7.0")})
		require.Equal(t, 200, status, "%s", body)
		var pr dc.PushResponse
		require.NoError(t, json.Unmarshal(body, &pr))
		assert.Equal(t, dc.PushAccepted, pr.Results[0].Status)

		// Per-event validation: an unknown type or invalid event is rejected
		// with a reason, the valid ones in the batch are stored.
		status, _, body = e.raw(t, rawReq{"POST", "/api/v1/sync/push", []byte(`{"events":[
			{"guid":"e2","entityGuid":"p2","type":"launch-rocket","data":{"a":1},"timestamp":"2026-11-25T08:00:00.000Z","syncLevel":"LOCAL"},
			{"guid":"e3","entityGuid":"p3","type":"create-individual","data":{},"timestamp":"2026-11-25T08:00:00.000Z","syncLevel":"LOCAL"},
			{"guid":"e4","entityGuid":"nope","type":"update-individual","data":{"a":1},"timestamp":"2026-11-25T08:00:00.000Z","syncLevel":"LOCAL"},
			{"guid":"e5","entityGuid":"p5","type":"create-individual","data":{"a":1},"timestamp":"yesterday","syncLevel":"LOCAL"},
			{"guid":"e6","entityGuid":"p6","type":"create-individual","data":{"a":1},"timestamp":"2026-11-25T08:00:00.000Z","syncLevel":"LOCAL"}]}`), h})
		require.Equal(t, 200, status, "%s", body)
		pr = dc.PushResponse{}
		require.NoError(t, json.Unmarshal(body, &pr))
		var statuses, codes []string
		for _, r := range pr.Results {
			statuses = append(statuses, r.Status)
			codes = append(codes, r.Code)
		}
		assert.Equal(t, []string{"rejected", "rejected", "rejected", "rejected", "accepted"}, statuses)
		assert.Equal(t, []string{"EINVALID", "EINVALID", "ENOTFOUND", "EINVALID", ""}, codes)
		n, err = e.store.CountAfter(ctx, "app1", 0)
		require.NoError(t, err)
		assert.Equal(t, 2, n)

		// Health and metrics.
		status, _, body = e.raw(t, rawReq{"GET", "/healthz", nil, nil})
		assert.Equal(t, 200, status)
		assert.Contains(t, string(body), "ok")
		status, _, body = e.raw(t, rawReq{"GET", "/metrics", nil, nil})
		assert.Equal(t, 200, status)
		assert.Contains(t, string(body), `datacollect_push_events_total{status="accepted"} 2`)
		assert.Contains(t, string(body), `datacollect_errors_total{code="ETOOLARGE"} 3`)
	})
}

func TestAuth(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		email, pw := e.user("app1")
		tr := &httpsync.Client{BaseURL: e.http.URL, AppID: "app1", ClientID: "d1"}
		_, err := tr.Login(ctx, email, "wrong password")
		assert.Equal(t, dc.EUNAUTHORIZED, dc.ErrorCode(err))
		wrongPw := err.Error()
		_, err = tr.Login(ctx, "nobody@app1.example", "wrong password")
		assert.Equal(t, dc.EUNAUTHORIZED, dc.ErrorCode(err))
		assert.Equal(t, wrongPw, err.Error(), "failures do not reveal whether the account exists")
		login, err := tr.Login(ctx, strings.ToUpper(email), pw)
		require.NoError(t, err, "emails are case-insensitive")
		exp, err := dc.ParseTime(login.ExpiresAt)
		require.NoError(t, err)

		// A forged token (other key) and an alg:none token are refused.
		claims := jwt.MapClaims{"sub": login.UserID, "app": "app1", "role": "sync", "iss": "datacollect",
			"aud": "datacollect-sync", "exp": time.Now().Add(time.Hour).Unix()}
		forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("not the server's key"))
		none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
		for _, bad := range []string{forged, none, "not.a.jwt", login.Token + "x"} {
			bt := &httpsync.Client{BaseURL: e.http.URL, AppID: "app1", ClientID: "d1"}
			bt.SetToken(bad)
			_, err := bt.Pull(ctx, dc.PullQuery{Since: 0, Limit: 10})
			assert.Equal(t, dc.EUNAUTHORIZED, dc.ErrorCode(err), bad)
		}

		// Renew before expiry gives a later expiry.
		e.clock.Advance(30 * time.Minute)
		renewed, err := tr.Renew(ctx)
		require.NoError(t, err)
		exp2, err := dc.ParseTime(renewed.ExpiresAt)
		require.NoError(t, err)
		assert.True(t, exp2.After(exp))
		_, err = tr.Pull(ctx, dc.PullQuery{Since: 0, Limit: 10})
		require.NoError(t, err)

		// An expired token is refused, and cannot be renewed (by a client
		// holding only the access token)...
		e.clock.Advance(2 * time.Hour)
		bare := &httpsync.Client{BaseURL: e.http.URL, AppID: "app1", ClientID: "d1"}
		bare.SetToken(tr.Token())
		_, err = bare.Pull(ctx, dc.PullQuery{Since: 0, Limit: 10})
		assert.Equal(t, dc.EUNAUTHORIZED, dc.ErrorCode(err))
		_, err = bare.Renew(ctx)
		assert.Equal(t, dc.EUNAUTHORIZED, dc.ErrorCode(err))
		// ... while the client holding the refresh token refreshes it.
		_, err = tr.Pull(ctx, dc.PullQuery{Since: 0, Limit: 10})
		require.NoError(t, err)
		assert.NotEqual(t, bare.Token(), tr.Token())
		_, err = tr.Login(ctx, email, pw)
		require.NoError(t, err, "logging in again works")
		_, err = tr.Pull(ctx, dc.PullQuery{Since: 0, Limit: 10})
		require.NoError(t, err)
	})
}

func TestAppsAreIsolated(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a := e.device("appA")
		b := e.device("appB")
		a.submit(t, household("A's household", "Ana"))
		a.sync(t)
		res := b.sync(t)
		assert.Zero(t, res.Pulled, "a user of app B sees nothing of app A")
		assert.Empty(t, b.entities(t))
		// B's credentials do not open app A.
		emailB, pwB := e.user("appB")
		tr := &httpsync.Client{BaseURL: e.http.URL, AppID: "appA", ClientID: "x"}
		_, err := tr.Login(ctx, emailB, pwB)
		assert.Equal(t, dc.EUNAUTHORIZED, dc.ErrorCode(err))
		// B pushing an event with A's entity guid writes into B only.
		evs, err := a.ListEvents(ctx, dc.EventQuery{})
		require.NoError(t, err)
		resp, err := b.tr.Push(ctx, &dc.PushRequest{Events: evs[:1]})
		require.NoError(t, err)
		assert.Equal(t, dc.PushAccepted, resp.Results[0].Status, "a separate app: no collision")
		na, err := e.store.CountAfter(ctx, "appA", 0)
		require.NoError(t, err)
		nb, err := e.store.CountAfter(ctx, "appB", 0)
		require.NoError(t, err)
		assert.Equal(t, 1, na)
		assert.Equal(t, 1, nb)
		b.sync(t)
		assert.Len(t, b.entities(t), 2)
		assert.Len(t, a.entities(t), 2)
	})
}
