//go:build !js

package server_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/server/sqlstore"
)

// newHandler returns the handler of a server over a fresh SQLite store,
// serving the web app from this repository.
func newHandler(t testing.TB) (*server.Server, http.Handler) {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "dc.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	srv := server.New(s, server.Config{WebDir: ".."}, server.Options{})
	t.Cleanup(srv.Close)
	return srv, srv.Handler()
}

func TestSecurityHeaders(t *testing.T) {
	_, h := newHandler(t)
	common := map[string]string{
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	for _, tc := range []struct {
		method, path string
		status       int
		csp          bool
	}{
		{"GET", "/", 200, true},
		{"GET", "/index.html", 200, true},
		{"GET", "/web/app.js", 200, true},
		{"GET", "/web/nope.js", 404, true},
		{"GET", "/healthz", 200, false},
		{"GET", "/metrics", 200, false},
		{"GET", "/api/v1/nope", 404, false},
		{"POST", "/api/v1/sync/push", 401, false},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		assert.Equal(t, tc.status, rec.Code, "%s %s", tc.method, tc.path)
		for k, v := range common {
			assert.Equal(t, v, rec.Header().Get(k), "%s on %s", k, tc.path)
		}
		if tc.csp {
			assert.Equal(t, server.ContentSecurityPolicy, rec.Header().Get("Content-Security-Policy"), tc.path)
		} else {
			assert.Empty(t, rec.Header().Get("Content-Security-Policy"), tc.path)
		}
		assert.Empty(t, rec.Header().Get("Strict-Transport-Security"), "no HSTS over plain HTTP: %s", tc.path)
	}
}

func TestSecurityHeadersCSPAllowsWasmNotEval(t *testing.T) {
	assert.Contains(t, server.ContentSecurityPolicy, "'wasm-unsafe-eval'")
	assert.NotContains(t, server.ContentSecurityPolicy, "'unsafe-eval'")
	assert.NotContains(t, server.ContentSecurityPolicy, "'unsafe-inline'")
}

func TestSecurityHeadersHSTSOverTLS(t *testing.T) {
	_, h := newHandler(t)
	for _, p := range []string{"/", "/healthz", "/api/v1/nope"} {
		req := httptest.NewRequest("GET", p, nil)
		req.TLS = &tls.ConnectionState{}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, "max-age=31536000", rec.Header().Get("Strict-Transport-Security"), p)
	}
}

// TestIndexHasNoInlineCode keeps the page loadable under the CSP: no inline
// scripts, no inline styles, no event-handler attributes.
func TestIndexHasNoInlineCode(t *testing.T) {
	b, err := os.ReadFile("../index.html")
	require.NoError(t, err)
	html := string(b)
	scripts := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(html, -1)
	assert.NotEmpty(t, scripts)
	for _, m := range scripts {
		assert.Contains(t, m[1], "src=", "inline <script>: %s", m[0])
		assert.Empty(t, strings.TrimSpace(m[2]), "inline <script>: %s", m[0])
	}
	assert.NotContains(t, html, "<style", "inline <style>")
	assert.NotRegexp(t, `(?i)\sstyle\s*=`, html, "style= attribute")
	assert.NotRegexp(t, `(?i)\son[a-z]+\s*=`, html, "event-handler attribute")
	assert.NotContains(t, html, "javascript:")
}
