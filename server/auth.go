package server

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	dc "github.com/datacollect/datacollect"
)

// Token claims' fixed values.
const (
	issuer   = "datacollect"
	audience = "datacollect-sync"
)

// Claims are what a DataCollect bearer token asserts.
type Claims struct {
	App   string `json:"app"`
	Email string `json:"email"`
	Role  string `json:"role"`
	jwt.RegisteredClaims
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

func (s *Server) signingKey(ctx context.Context) ([]byte, error) {
	return s.store.Secret(ctx, "jwt-hs256", func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
}

// issue signs a token for u.
func (s *Server) issue(ctx context.Context, u *dc.User) (*dc.LoginResponse, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	exp := now.Add(s.cfg.TokenTTL)
	claims := Claims{App: u.AppID, Email: u.Email, Role: u.Role, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Audience: jwt.ClaimStrings{audience}, Subject: u.ID,
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(exp),
	}}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		return nil, dc.Errorf(dc.EINTERNAL, "sign token: %v", err)
	}
	appKey, appKeyID, err := s.envelopeKey(ctx, u.AppID)
	if err != nil {
		return nil, err
	}
	return &dc.LoginResponse{Token: tok, ExpiresAt: dc.FormatTime(exp), UserID: u.ID, AppID: u.AppID, Role: u.Role,
		AppKey: appKey, AppKeyID: appKeyID}, nil
}

// verify checks a token: algorithm pinned to HS256, signature, expiry,
// issuer and audience.
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
	if c.App == "" || c.Subject == "" {
		return nil, dc.Errorf(EUNAUTHORIZED, "invalid token: no app or subject")
	}
	return &c, nil
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req dc.LoginRequest
	if _, err := readBody(r, 16<<10, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.store.UserByEmail(r.Context(), strings.TrimSpace(req.AppID), strings.ToLower(strings.TrimSpace(req.Email)))
	hash := dummyHash
	if err == nil {
		hash = []byte(u.PasswordHash)
	} else if dc.ErrorCode(err) != dc.ENOTFOUND {
		s.writeError(w, r, err)
		return
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || u == nil {
		s.metrics.logins.WithLabelValues("failed").Inc()
		s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "wrong app, email or password"))
		return
	}
	resp, err := s.issue(r.Context(), u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	s.log.Info("login", "app", u.AppID, "user", u.ID)
	s.write(w, r, http.StatusOK, resp)
}

func (s *Server) handleRenew(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	u, err := s.store.UserByEmail(r.Context(), c.App, c.Email)
	if err != nil || u.ID != c.Subject {
		s.writeError(w, r, dc.Errorf(EUNAUTHORIZED, "the token's user no longer exists"))
		return
	}
	resp, err := s.issue(r.Context(), u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.write(w, r, http.StatusOK, resp)
}

type claimsKey struct{}

func claimsOf(r *http.Request) *Claims { return r.Context().Value(claimsKey{}).(*Claims) }

// authenticated requires a valid bearer token.
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
		next(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	}
}
