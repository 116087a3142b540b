//go:build !js

package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/server/sqlstore"
	"github.com/datacollect/datacollect/wire"
)

// fuzzEndpoints are the request FuzzSyncRequest sends its bytes in: the
// body of a push or a telemetry report, or the query of a pull.
var fuzzEndpoints = []string{wire.PathPush, wire.PathTelemetry, wire.PathPull}

// FuzzSyncRequest sends arbitrary bytes, as MessagePack or JSON, plain,
// gzip-compressed or falsely claiming gzip, to the sync API through the real
// handler over SQLite, logged in. The server must answer 2xx, or a 4xx with
// an ErrorResponse in the format asked for, never 5xx; a refused request
// stores nothing.
func FuzzSyncRequest(f *testing.F) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, f.TempDir()+"/dc.db")
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	srv := server.New(st, server.Config{}, server.Options{})
	defer srv.Close()
	h := srv.Handler()
	token := fuzzLogin(f, st, h)

	ev := &dc.Event{GUID: "e1", EntityGUID: "p1", Type: "create-individual", Timestamp: "2026-11-25T08:00:00.000Z",
		UserID: "u", SyncLevel: dc.Local, Data: map[string]any{"name": "Amina", "age": int64(30)}}
	for _, m := range []wire.Message{
		&dc.PushRequest{Events: []*dc.Event{ev}},
		&dc.DeviceReport{LastSyncTime: "2026-11-25T08:00:00Z", Pending: 1, Cursor: 1},
	} {
		kind := uint8(0)
		if _, ok := m.(*dc.DeviceReport); ok {
			kind = 1
		}
		for _, ct := range []string{wire.MsgPack, wire.JSON} {
			b, err := wire.Marshal(ct, m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(kind, ct == wire.JSON, uint8(0), b)
			f.Add(kind, ct == wire.JSON, uint8(1), b)
		}
	}
	f.Add(uint8(0), true, uint8(0), []byte(`{"events":[{"guid":"e2","entityGuid":"p1","type":"update-individual","data":{"x":1},"timestamp":"2026-11-25T08:00:00.000Z","syncLevel":"LOCAL"}]}`))
	f.Add(uint8(0), true, uint8(2), []byte(`{"events":[]}`))
	f.Add(uint8(2), false, uint8(0), []byte("since=0&limit=10&logSince=0"))
	f.Add(uint8(2), true, uint8(0), []byte("since=-1"))

	f.Fuzz(func(t *testing.T, endpoint uint8, isJSON bool, encoding uint8, b []byte) {
		path := fuzzEndpoints[int(endpoint)%len(fuzzEndpoints)]
		ct := wire.MsgPack
		if isJSON {
			ct = wire.JSON
		}
		before, err := st.CountAfter(ctx, "fz", 0)
		if err != nil {
			t.Fatal(err)
		}
		var req *http.Request
		if path == wire.PathPull {
			req = httptest.NewRequest("GET", path+"?"+url.PathEscape(string(b)), nil)
			req.URL.RawQuery = string(b) // as sent, however malformed
		} else {
			body := b
			switch encoding % 3 {
			case 1:
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				_, _ = zw.Write(b)
				_ = zw.Close()
				body = buf.Bytes()
				fallthrough
			case 2:
				req = httptest.NewRequest("POST", path, bytes.NewReader(body))
				req.Header.Set("Content-Encoding", "gzip")
			default:
				req = httptest.NewRequest("POST", path, bytes.NewReader(body))
			}
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set("Accept", ct)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Sync-Version", dc.ProtocolVersion)
		req.Header.Set("X-Client-ID", "fuzz-device")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		// Write the sync log now, not in the background while the next
		// input runs (which would make coverage flaky).
		srv.FlushSyncLog()

		switch {
		case rec.Code >= 200 && rec.Code < 300:
			return
		case rec.Code >= 400 && rec.Code < 500:
		default:
			t.Fatalf("%s %q (%s, encoding %d): status %d: %s", path, b, ct, encoding%3, rec.Code, rec.Body.Bytes())
		}
		var e dc.ErrorResponse
		if got := rec.Header().Get("Content-Type"); got != ct {
			t.Fatalf("%s %q: status %d with Content-Type %q, want %q", path, b, rec.Code, got, ct)
		}
		if err := wire.Unmarshal(ct, rec.Body.Bytes(), &e); err != nil || e.Code == "" {
			t.Fatalf("%s %q: status %d with body %q: not an ErrorResponse (%v)", path, b, rec.Code, rec.Body.Bytes(), err)
		}
		if after, err := st.CountAfter(ctx, "fz", 0); err != nil || after != before {
			t.Fatalf("%s %q: refused with %d %s, yet the app has %d events, not %d (%v)", path, b, rec.Code, e.Code, after, before, err)
		}
	})
}

// fuzzLogin creates a sync user of app "fz" and returns a token from the
// login endpoint of h.
func fuzzLogin(f *testing.F, st dc.ServerStore, h http.Handler) string {
	if _, err := server.CreateUser(context.Background(), st, "fz", "fuzz@example.org", "long enough", dc.RoleSync, time.Now()); err != nil {
		f.Fatal(err)
	}
	body, err := wire.Marshal(wire.JSON, &dc.LoginRequest{AppID: "fz", Email: "fuzz@example.org", Password: "long enough"})
	if err != nil {
		f.Fatal(err)
	}
	req := httptest.NewRequest("POST", wire.PathLogin, bytes.NewReader(body))
	req.Header.Set("Content-Type", wire.JSON)
	req.Header.Set("X-Sync-Version", dc.ProtocolVersion)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp dc.LoginResponse
	if err := wire.Unmarshal(wire.JSON, rec.Body.Bytes(), &resp); rec.Code != 200 || err != nil {
		f.Fatalf("login: %d %s (%v)", rec.Code, rec.Body.Bytes(), err)
	}
	return resp.Token
}
