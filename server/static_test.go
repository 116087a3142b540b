//go:build !js

package server_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datacollect/datacollect/server"
)

// webDir writes a minimal app shell into a temporary directory.
func webDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"index.html":                "<!doctype html><title>app</title>",
		"wasm_exec.js":              "// go",
		"web/app.js":                "// app",
		"web/sw.js":                 "const BUILD = '__BUILD__';",
		"web/manifest.webmanifest":  `{"name":"DataCollect"}`,
		"web/icons/icon-192.png":    "\x89PNG\r\n\x1a\n",
		"server.go":                 "package secret",
		"web/../data/should-not-be": "x",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestAppHandlerServesTheShell(t *testing.T) {
	h := server.AppHandler(webDir(t))
	for path, ctype := range map[string]string{
		"/":                       "text/html; charset=utf-8",
		"/wasm_exec.js":           "text/javascript; charset=utf-8",
		"/web/app.js":             "text/javascript; charset=utf-8",
		"/sw.js":                  "text/javascript; charset=utf-8",
		"/manifest.webmanifest":   "application/manifest+json",
		"/web/icons/icon-192.png": "image/png",
	} {
		rec := get(t, h, path)
		assert.Equal(t, http.StatusOK, rec.Code, path)
		assert.Equal(t, ctype, rec.Header().Get("Content-Type"), path)
		assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"), path)
	}
	for _, path := range []string{"/server.go", "/data/should-not-be", "/web", "/sw.js/x", "/api/v1/sync/pull"} {
		assert.Equal(t, http.StatusNotFound, get(t, h, path).Code, path)
	}
}

func TestServiceWorkerCarriesTheBuild(t *testing.T) {
	dir := webDir(t)
	h := server.AppHandler(dir)
	first := get(t, h, "/sw.js").Body.String()
	assert.NotContains(t, first, "__BUILD__")
	assert.Regexp(t, `^const BUILD = '[0-9a-f]{16}';$`, first)
	assert.Equal(t, first, get(t, h, "/sw.js").Body.String(), "the same build has the same id")

	// A new build of any shell file changes the worker, so browsers update it.
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "web", "app.js"), later, later))
	second := get(t, h, "/sw.js").Body.String()
	assert.NotEqual(t, first, second)
	assert.True(t, strings.HasPrefix(second, "const BUILD = '"))
}
