package server

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/wire"
)

// Config tunes a Server. Zero values get defaults.
type Config struct {
	// TokenTTL is how long an access token is valid (default 15 minutes).
	TokenTTL time.Duration
	// RefreshTTL is how long a refresh token is valid (default 30 days);
	// each refresh answers a new one, valid as long again.
	RefreshTTL time.Duration
	// RefreshReuseGrace is how long after its use a refresh token may be
	// presented again without revoking the session (default 2 minutes;
	// negative: never): the answer to a refresh can be lost, or the
	// request delivered twice, on the networks devices use. Within it a
	// second use answers new tokens in the same session; after it, a
	// reuse means two holders, and the session is revoked.
	RefreshReuseGrace time.Duration
	// LoginFailuresPerAccount failed logins per account (app and email)
	// in LoginFailureWindow are allowed (defaults 5 in 15 minutes); then
	// logins answer 429 until the window slides. Per server node.
	LoginFailuresPerAccount int
	LoginFailureWindow      time.Duration
	// LoginAttemptsPerAddress login attempts per client address in
	// LoginAttemptWindow are allowed (defaults 20 per minute). Per node.
	LoginAttemptsPerAddress int
	LoginAttemptWindow      time.Duration
	// TrustProxy takes the client address from the last X-Forwarded-For
	// entry (set it only behind a proxy that appends it).
	TrustProxy bool
	// MaxBodyBytes bounds request bodies after decompression (default 8 MiB).
	MaxBodyBytes int64
	// MaxPushEvents bounds the events of one push (default 1000).
	MaxPushEvents int
	// MaxPullPage bounds a pull page (default 1000); the default page is 500.
	MaxPullPage int
	// WebDir, if set, is served as the web app (index.html, wasm_exec.js, web/).
	WebDir string
	// Envelope is "optional" (the zero value: sealed and plain pushes are
	// accepted, pulls sealed on request) or "required" (every pushed event
	// sealed, every pull sealed); see server/envelope.go.
	Envelope string
}

// Server is the DataCollect sync server. It holds no state of its own
// beyond caches that any process can rebuild: several servers can share one
// PostgreSQL database.
type Server struct {
	store   dc.ServerStore
	applier *core.Applier
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	logs    *logWriter
	// envelopes caches the apps' envelope codecs (server/envelope.go).
	envelopes envelopeCodecs
	// auth holds the signing key and the login limiters (server/auth.go).
	auth *authState
}

// Options are a Server's collaborators; nil ones get defaults.
type Options struct {
	Applier *core.Applier
	Logger  *slog.Logger
	Now     func() time.Time
}

// New returns a Server over store.
func New(store dc.ServerStore, cfg Config, o Options) *Server {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 15 * time.Minute
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.RefreshReuseGrace == 0 {
		cfg.RefreshReuseGrace = 2 * time.Minute
	}
	if cfg.LoginFailuresPerAccount <= 0 {
		cfg.LoginFailuresPerAccount = 5
	}
	if cfg.LoginFailureWindow <= 0 {
		cfg.LoginFailureWindow = 15 * time.Minute
	}
	if cfg.LoginAttemptsPerAddress <= 0 {
		cfg.LoginAttemptsPerAddress = 20
	}
	if cfg.LoginAttemptWindow <= 0 {
		cfg.LoginAttemptWindow = time.Minute
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 8 << 20
	}
	if cfg.MaxPushEvents <= 0 {
		cfg.MaxPushEvents = 1000
	}
	if cfg.MaxPullPage <= 0 {
		cfg.MaxPullPage = 1000
	}
	s := &Server{store: store, applier: o.Applier, cfg: cfg, log: o.Logger, now: o.Now, metrics: newMetrics()}
	if s.applier == nil {
		s.applier = core.NewApplier()
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.logs = newLogWriter(store, s.logFailed)
	s.auth = newAuthState(s.cfg, s.now)
	return s
}

// Handler returns the HTTP handler: the API under /api/v1, /healthz,
// /metrics, and the web app if configured. Every push and pull that passes
// authentication and the header checks is audited into the app's sync log;
// plan and telemetry requests are not.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("POST "+wire.PathLogin, s.handleLogin)
	mux.HandleFunc("POST "+wire.PathRenew, s.authenticated(s.handleRenew))
	mux.HandleFunc("POST "+wire.PathRefresh, s.handleRefresh)
	mux.HandleFunc("POST "+wire.PathLogout, s.authenticated(s.handleLogout))
	mux.HandleFunc("GET "+pathAdminDevices, s.adminRoute(s.handleAdminDevices))
	mux.HandleFunc("GET "+pathAdminSyncLog, s.adminRoute(s.handleAdminSyncLog))
	mux.HandleFunc("GET "+pathAdminDuplicates, s.adminRoute(s.handleAdminDuplicates))
	mux.HandleFunc("GET "+pathAdminAuditVerify, s.adminRoute(s.handleAdminAuditVerify))
	mux.HandleFunc("PUT "+pathAdminExternalConfig, s.adminRoute(s.handleAdminExternalConfig))
	mux.HandleFunc("POST "+pathAdminExternalSync, s.adminRoute(s.handleAdminExternalSync))
	mux.HandleFunc("GET "+pathAdminExternalStatus, s.adminRoute(s.handleAdminExternalStatus))
	mux.HandleFunc("GET "+pathAdminExternalFailures, s.adminRoute(s.handleAdminExternalFailures))
	mux.HandleFunc("POST "+pathAdminExternalRetry, s.adminRoute(s.handleAdminExternalRetry))
	mux.HandleFunc("POST "+wire.PathPush, s.authenticated(s.syncRequest(s.audited(dc.AuditPush, s.push))))
	mux.HandleFunc("GET "+wire.PathPull, s.authenticated(s.syncRequest(s.audited(dc.AuditPull, s.pull))))
	mux.HandleFunc("GET "+wire.PathPlan, s.authenticated(s.syncRequest(s.handlePlan)))
	mux.HandleFunc("GET "+pathDigest, s.authenticated(s.syncRequest(s.handleDigest)))
	mux.HandleFunc("POST "+wire.PathTelemetry, s.authenticated(s.syncRequest(s.handleTelemetry)))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, dc.Errorf(dc.ENOTFOUND, "no API endpoint %s %s", r.Method, r.URL.Path))
	})
	if s.cfg.WebDir != "" {
		mux.Handle("/", AppHandler(s.cfg.WebDir))
	}
	return securityHeaders(s.instrument(mux))
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if _, _, _, err := s.store.Pull(r.Context(), "healthz", 0, 1); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"unavailable"}`)
		return
	}
	_, _ = io.WriteString(w, `{"status":"ok"}`)
}
