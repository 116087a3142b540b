// Package server is the DataCollect server: it serves the web app and (with
// the sync issue) the sync API.
package server

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// AppHandler serves the web app from dir: index.html at "/", wasm_exec.js,
// and everything under web/. Files with a precompressed ".gz" sibling are
// sent compressed to clients that accept gzip. Nothing else in dir (source
// code, data) is reachable.
func AppHandler(dir string) http.Handler {
	files := http.Dir(dir)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		switch {
		case p == "/" || p == "/index.html":
			p = "/index.html"
		case p == "/wasm_exec.js" || strings.HasPrefix(p, "/web/"):
		default:
			http.NotFound(w, r)
			return
		}
		serveFile(w, r, files, dir, p)
	})
}

func serveFile(w http.ResponseWriter, r *http.Request, files http.Dir, dir, p string) {
	// Revalidate everything: the app shell changes with every build, and a
	// service worker does the offline caching.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	name := p
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)+".gz")); err == nil && !st.IsDir() {
			name = p + ".gz"
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Add("Vary", "Accept-Encoding")
		}
	}
	f, err := files.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(p) {
	case ".wasm":
		w.Header().Set("Content-Type", "application/wasm")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".webmanifest":
		w.Header().Set("Content-Type", "application/manifest+json")
	}
	http.ServeContent(w, r, p, st.ModTime(), f)
}
