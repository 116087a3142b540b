// Package server is the DataCollect server: it serves the web app and (with
// the sync issue) the sync API.
package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// AppHandler serves the web app from dir: index.html at "/", wasm_exec.js,
// and everything under web/. Files with a precompressed ".gz" sibling are
// sent compressed to clients that accept gzip. The service worker
// (web/sw.js) is served at /sw.js, so that its scope covers the whole app,
// and the web app manifest (web/manifest.webmanifest) at
// /manifest.webmanifest. Nothing else in dir (source code, data) is
// reachable.
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
		case p == "/manifest.webmanifest":
			p = "/web/manifest.webmanifest"
		case p == "/sw.js":
			serveServiceWorker(w, r, dir)
			return
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

// buildPlaceholder is the string in web/sw.js that serveServiceWorker
// replaces with the build id.
const buildPlaceholder = "__BUILD__"

// serveServiceWorker serves web/sw.js with its build placeholder replaced by
// a hash of the app shell's files (names, sizes, modification times): every
// build changes the worker's bytes, so browsers install the new worker, which
// caches the new shell under a new name and drops the old cache.
func serveServiceWorker(w http.ResponseWriter, r *http.Request, dir string) {
	src, err := os.ReadFile(filepath.Join(dir, "web", "sw.js"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	id, mod := shellBuild(dir)
	body := bytes.ReplaceAll(src, []byte(buildPlaceholder), []byte(id))
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	http.ServeContent(w, r, "sw.js", mod, bytes.NewReader(body))
}

// shellBuild identifies the app shell's current build: a short hash of the
// name, size and modification time of index.html, wasm_exec.js and every file
// under web/, and the latest modification time among them.
func shellBuild(dir string) (string, time.Time) {
	h := sha256.New()
	var latest time.Time
	add := func(name string, info fs.FileInfo) {
		fmt.Fprintf(h, "%s %d %d\n", name, info.Size(), info.ModTime().UnixNano())
		if info.ModTime().After(latest) {
			latest = info.ModTime()
		}
	}
	for _, name := range []string{"index.html", "wasm_exec.js"} {
		if info, err := os.Stat(filepath.Join(dir, name)); err == nil {
			add(name, info)
		}
	}
	_ = filepath.WalkDir(filepath.Join(dir, "web"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			rel, _ := filepath.Rel(dir, p)
			add(filepath.ToSlash(rel), info)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16], latest
}
