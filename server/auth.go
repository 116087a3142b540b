package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	dc "github.com/datacollect/datacollect"
)

// Authentication. Login answers a short-lived access token (a JWT, HS256,
// Config.TokenTTL) and an opaque refresh token (Config.RefreshTTL) that
// starts a session: a family of refresh tokens, each used once to get the
// next one and a new access token (POST /api/v1/auth/refresh). The store
// keeps only the refresh tokens' SHA-256 hashes. Presenting a used refresh
// token again is taken as theft: the whole family is revoked. Every access
// token carries an id (jti) and its session (sid); the authenticated
// middleware refuses a token whose id was revoked by logout or whose session
// was revoked or has expired, which every server node sharing the database
// sees at once.

// Token claims' fixed values.
const (
	issuer   = "datacollect"
	audience = "datacollect-sync"
)

// Claims are what a DataCollect bearer token asserts. The token's id is
// RegisteredClaims.ID (jti).
type Claims struct {
	App   string `json:"app"`
	Email string `json:"email"`
	Role  string `json:"role"`
	// SID is the session: the family of the refresh tokens of one login.
	SID string `json:"sid"`
	jwt.RegisteredClaims
}

// pruneEvery is how often a node deletes expired refresh tokens and
// denylist entries (on a login); pruneMargin keeps them a little past
// their expiry, beyond the leeway with which tokens are checked.
const (
	pruneEvery  = time.Hour
	pruneMargin = time.Minute
)

// authState is what a Server keeps in memory for authentication: the
// signing key (which never changes once created) and the login limiters
// (per node).
type authState struct {
	keyMu sync.Mutex
	key   []byte

	accounts  *limiter // failed logins per app and email
	addresses *limiter // login attempts per client address

	pruneMu   sync.Mutex
	lastPrune time.Time
}

func newAuthState(cfg Config, now func() time.Time) *authState {
	return &authState{
		accounts:  newLimiter(cfg.LoginFailuresPerAccount, cfg.LoginFailureWindow, limiterKeys, now),
		addresses: newLimiter(cfg.LoginAttemptsPerAddress, cfg.LoginAttemptWindow, limiterKeys, now),
	}
}

// HashPassword hashes a password with bcrypt.
func HashPassword(password string) (string, error) {
	if len(password) < 8 {
		return "", dc.Errorf(dc.EINVALID, "password must have at least 8 characters")
	}
	if len(password) > 72 {
		return "", dc.Errorf(dc.EINVALID, "password must have at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", dc.Errorf(dc.EINTERNAL, "hash password: %v", err)
	}
	return string(h), nil
}

// dummyHash makes logins of unknown users cost as much as real ones, so
// timing does not reveal whether an account exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a real password"), bcrypt.DefaultCost)

// CreateUser adds a user of app with a hashed password.
func CreateUser(ctx context.Context, s dc.ServerStore, app, email, password, role string, now time.Time) (*dc.User, error) {
	app, email = strings.TrimSpace(app), strings.ToLower(strings.TrimSpace(email))
	if app == "" || email == "" || !strings.Contains(email, "@") {
		return nil, dc.Errorf(dc.EINVALID, "a user needs an app and an email address")
	}
	if role == "" {
		role = dc.RoleSync
	}
	if role != dc.RoleSync && role != dc.RoleAdmin {
		return nil, dc.Errorf(dc.EINVALID, "role must be %q or %q", dc.RoleSync, dc.RoleAdmin)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	u := &dc.User{AppID: app, Email: email, PasswordHash: hash, Role: role, CreatedAt: dc.FormatTime(now)}
	if err := s.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// signingKey returns the HS256 key, read from the store (where the first
// node creates it) once and then kept: it never changes.
func (s *Server) signingKey(ctx context.Context) ([]byte, error) {
	a := s.auth
	a.keyMu.Lock()
	defer a.keyMu.Unlock()
	if a.key != nil {
		return a.key, nil
	}
	key, err := s.store.Secret(ctx, "jwt-hs256", func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, err
	}
	a.key = key
	return key, nil
}

// newRefreshToken returns a new refresh token (32 random bytes,
// base64url) and its hash.
func newRefreshToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, refreshHash(token)
}

// refreshHash is the hash under which the store keeps a refresh token.
func refreshHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// accessToken signs an access token of u in session sid.
func (s *Server) accessToken(ctx context.Context, u *dc.User, sid string) (string, time.Time, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	exp := now.Add(s.cfg.TokenTTL)
	claims := Claims{App: u.AppID, Email: u.Email, Role: u.Role, SID: sid, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Audience: jwt.ClaimStrings{audience}, Subject: u.ID, ID: rand.Text(),
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(exp),
	}}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		return "", time.Time{}, dc.Errorf(dc.EINTERNAL, "sign token: %v", err)
	}
	return tok, exp, nil
}

// issue answers a login, a refresh or a renew: a new access token of u in
// session sid, the refresh token (if any) and the app's envelope key.
func (s *Server) issue(ctx context.Context, u *dc.User, sid, refresh string, refreshExp time.Time) (*dc.LoginResponse, error) {
	tok, exp, err := s.accessToken(ctx, u, sid)
	if err != nil {
		return nil, err
	}
	appKey, appKeyID, err := s.envelopeKey(ctx, u.AppID)
	if err != nil {
		return nil, err
	}
	resp := &dc.LoginResponse{Token: tok, ExpiresAt: dc.FormatTime(exp), UserID: u.ID, AppID: u.AppID, Role: u.Role,
		AppKey: appKey, AppKeyID: appKeyID}
	if refresh != "" {
		resp.RefreshToken, resp.RefreshExpiresAt = refresh, dc.FormatTime(refreshExp)
	}
	return resp, nil
}

// verify checks a token: algorithm pinned to HS256, signature, expiry,
// issuer and audience, and that it names an app, a subject, an id and a
// session. It does not check revocation (see authenticated).
func (s *Server) verify(ctx context.Context, token string) (*Claims, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	var c Claims
	_, err = jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer), jwt.WithAudience(audience), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now), jwt.WithLeeway(5*time.Second))
	if err != nil {
		return nil, dc.Errorf(EUNAUTHORIZED, "invalid token: %v", err)
	}
	if c.App == "" || c.Subject == "" || c.ID == "" || c.SID == "" {
		return nil, dc.Errorf(EUNAUTHORIZED, "invalid token: no app, subject, id or session")
	}
	return &c, nil
}

// errBadLogin is the one answer to wrong credentials, whether or not the
// account exists.
var errBadLogin = dc.Errorf(EUNAUTHORIZED, "wrong app, email or password")

// handleLogin handles POST /api/v1/auth/login (dc.LoginRequest): a new
// session. Attempts are limited per client address, failures per account
// (see Config); an unknown account is limited, timed and refused exactly
// as a known one.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if wait, ok := s.auth.addresses.take(s.clientAddr(r)); !ok {
		s.metrics.logins.WithLabelValues("limited").Inc()
		s.tooMany(w, r, wait, "too many login attempts from this address")
		return
	}
	var req dc.LoginRequest
	if _, err := readBody(r, 16<<10, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	app, email := strings.TrimSpace(req.AppID), strings.ToLower(strings.TrimSpace(req.Email))
	// A failure is counted before the password is checked, so that
	// concurrent guesses cannot overrun the limit; a success clears it.
	account := strings.ToLower(app) + "\x00" + email
	if wait, ok := s.auth.accounts.take(account); !ok {
		s.metrics.logins.WithLabelValues("limited").Inc()
		s.tooMany(w, r, wait, "too many failed logins for this account")
		return
	}
	u, err := s.store.UserByEmail(r.Context(), app, email)
	hash := dummyHash
	if err == nil {
		hash = []byte(u.PasswordHash)
	} else if dc.ErrorCode(err) != dc.ENOTFOUND {
		s.writeError(w, r, err)
		return
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || u == nil {
		s.metrics.logins.WithLabelValues("failed").Inc()
		s.writeError(w, r, errBadLogin)
		return
	}
	s.auth.accounts.reset(account)
	now := s.now()
	refresh, rhash := newRefreshToken()
	rt := &dc.RefreshToken{Hash: rhash, AppID: u.AppID, UserID: u.ID, Email: u.Email, Family: rand.Text(),
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
	if err := s.store.PutRefreshToken(r.Context(), rt); err != nil {
		s.writeError(w, r, err)
		return
	}
	resp, err := s.issue(r.Context(), u, rt.Family, refresh, rt.ExpiresAt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	s.log.Info("login", "app", u.AppID, "user", u.ID)
	s.prune(r.Context())
	s.write(w, r, http.StatusOK, resp)
}

// tooMany answers 429 ERATELIMIT with a Retry-After of wait (whole
// seconds, at least one).
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration, msg string) {
	secs := max(1, int((wait+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.writeError(w, r, dc.Errorf(ERATELIMIT, "%s: retry in %d s", msg, secs))
}

// handleRefresh handles POST /api/v1/auth/refresh (dc.RefreshRequest, no
// bearer): the refresh token is used up and a new one, in the same
// session, comes with a new access token. A token used before revokes its
// session; an unknown, expired or revoked one is EUNAUTHORIZED.
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	var req dc.RefreshRequest
	if _, err := readBody(r, 16<<10, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.RefreshToken == "" {
		s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "missing refresh token"))
		return
	}
	ctx, now := r.Context(), s.now()
	refresh, rhash := newRefreshToken()
	next := &dc.RefreshToken{Hash: rhash, CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
	old, err := s.store.UseRefreshToken(ctx, refreshHash(req.RefreshToken), now, next)
	switch dc.ErrorCode(err) {
	case "":
	case dc.ENOTFOUND:
		s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "unknown refresh token: log in again"))
		return
	case dc.ECONFLICT:
		if old != nil && old.RevokedAt.IsZero() && !old.UsedAt.IsZero() && now.Sub(old.UsedAt) <= s.cfg.RefreshReuseGrace {
			// Used moments ago: most likely our answer was lost or the
			// request came twice. Answer new tokens in the same session
			// (the first answer's stay valid too).
			next.AppID, next.UserID, next.Email, next.Family = old.AppID, old.UserID, old.Email, old.Family
			if err := s.store.PutRefreshToken(ctx, next); err != nil {
				s.writeError(w, r, err)
				return
			}
			s.log.Info("refresh token presented again within the grace period", "app", old.AppID, "user", old.UserID)
			break
		}
		// Two holders of one token: the thief or the owner got the next
		// one. End the session for both.
		if old == nil {
			s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "the refresh token was used already: log in again"))
			return
		}
		s.log.Warn("refresh token reused: session revoked", "app", old.AppID, "user", old.UserID)
		if err := s.store.RevokeFamily(ctx, old.Family, now); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "the refresh token was used already: the session is revoked; log in again"))
		return
	case EUNAUTHORIZED:
		s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "%s: log in again", dc.ErrorMessage(err)))
		return
	default:
		s.writeError(w, r, err)
		return
	}
	u, err := s.store.UserByEmail(ctx, old.AppID, old.Email)
	if err != nil || u.ID != old.UserID {
		if dc.ErrorCode(err) != "" && dc.ErrorCode(err) != dc.ENOTFOUND {
			s.writeError(w, r, err)
			return
		}
		if err := s.store.RevokeFamily(ctx, old.Family, now); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "the token's user no longer exists"))
		return
	}
	resp, err := s.issue(ctx, u, old.Family, refresh, next.ExpiresAt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.write(w, r, http.StatusOK, resp)
}

// handleRenew handles POST /api/v1/auth/renew (bearer): a new access token
// in the same session, while the session lives.
func (s *Server) handleRenew(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	u, err := s.store.UserByEmail(r.Context(), c.App, c.Email)
	if err != nil || u.ID != c.Subject {
		s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "the token's user no longer exists"))
		return
	}
	resp, err := s.issue(r.Context(), u, c.SID, "", time.Time{})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.write(w, r, http.StatusOK, resp)
}

// handleLogout handles POST /api/v1/auth/logout (bearer, optional
// dc.LogoutRequest body): the access token is revoked, and with a refresh
// token of the same user, its whole session. It answers 204, also for a
// refresh token that is unknown or not the caller's (which it leaves
// alone).
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	var req dc.LogoutRequest
	if r.ContentLength != 0 {
		if _, err := readBody(r, 16<<10, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	ctx := r.Context()
	if err := s.store.RevokeToken(ctx, c.ID, c.ExpiresAt.Time); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.RefreshToken != "" {
		rt, err := s.store.RefreshToken(ctx, refreshHash(req.RefreshToken))
		switch {
		case dc.ErrorCode(err) == dc.ENOTFOUND:
		case err != nil:
			s.writeError(w, r, err)
			return
		case rt.UserID == c.Subject && rt.AppID == c.App:
			if err := s.store.RevokeFamily(ctx, rt.Family, s.now()); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
	}
	s.log.Info("logout", "app", c.App, "user", c.Subject)
	w.WriteHeader(http.StatusNoContent)
}

// prune deletes expired tokens from the store, at most once per
// pruneEvery on this node. A failure is logged: the rows are pruned later.
func (s *Server) prune(ctx context.Context) {
	a := s.auth
	now := s.now()
	a.pruneMu.Lock()
	if now.Sub(a.lastPrune) < pruneEvery {
		a.pruneMu.Unlock()
		return
	}
	a.lastPrune = now
	a.pruneMu.Unlock()
	if n, err := s.store.PruneTokens(ctx, now.Add(-pruneMargin)); err != nil {
		s.log.Error("prune tokens", "err", err)
	} else if n > 0 {
		s.log.Info("pruned expired tokens", "rows", n)
	}
}

type claimsKey struct{}

func claimsOf(r *http.Request) *Claims { return r.Context().Value(claimsKey{}).(*Claims) }

// authenticated requires a valid bearer token that is not revoked
// (EUNAUTHORIZED), and refuses a request that names another app than the
// token's, in the query (app=) or the X-App-ID header (EFORBIDDEN): the app
// always comes from the token.
func (s *Server) authenticated(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" {
			s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "missing Authorization: Bearer token"))
			return
		}
		c, err := s.verify(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		revoked, err := s.store.TokenRevoked(r.Context(), c.ID, c.SID, s.now())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if revoked {
			s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "the token was revoked (logged out or session ended): log in again"))
			return
		}
		if err := checkApp(r, c.App); err != nil {
			s.writeError(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	}
}

// checkApp returns EFORBIDDEN if the request names an app (query app= or
// header X-App-ID, any of their values) other than app.
func checkApp(r *http.Request, app string) error {
	named := append(r.URL.Query()["app"], r.Header.Values("X-App-ID")...)
	for _, a := range named {
		if strings.TrimSpace(a) != app {
			return dc.Errorf(EFORBIDDEN, "the token is for another app than the request names")
		}
	}
	return nil
}
