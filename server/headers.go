package server

import (
	"net/http"
	"strings"
)

// ContentSecurityPolicy is the policy of the web app's pages. The app loads
// only its own scripts, styles and wasm; compiling wasm needs
// 'wasm-unsafe-eval', which (unlike 'unsafe-eval') allows no JavaScript eval.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
	"frame-ancestors 'none'; form-action 'self'"

// hstsMaxAge is the Strict-Transport-Security value sent over TLS: one year.
const hstsMaxAge = "max-age=31536000"

// securityHeaders sets the security headers on every response of next:
// nosniff, no referrer, no framing, a same-origin opener, HSTS when the
// request came over TLS, and the Content-Security-Policy on the web app
// (not on /api/, /metrics or /healthz, which serve no documents).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", hstsMaxAge)
		}
		if isWebApp(r.URL.Path) {
			h.Set("Content-Security-Policy", ContentSecurityPolicy)
		}
		next.ServeHTTP(w, r)
	})
}

// isWebApp reports whether path belongs to the web app rather than to the
// API or the operational endpoints.
func isWebApp(path string) bool {
	return !strings.HasPrefix(path, "/api/") && path != "/api" &&
		path != "/metrics" && path != "/healthz"
}
