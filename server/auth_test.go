//go:build !js

package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/server/sqlstore"
	"github.com/datacollect/datacollect/wire"
)

// authClock is a settable clock shared by a test and its servers.
type authClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *authClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *authClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// authEnv is a real server over HTTP on a real SQLite store, with a
// settable clock.
type authEnv struct {
	t     *testing.T
	path  string
	store *sqlstore.Store
	srv   *server.Server
	url   string
	clock *authClock
}

// testPassword is every test user's password.
const testPassword = "correct horse"

func newAuthEnv(t *testing.T, cfg server.Config) *authEnv {
	t.Helper()
	e := &authEnv{t: t, path: filepath.Join(t.TempDir(), "dc.db"),
		clock: &authClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}}
	e.store, e.srv, e.url = e.node(cfg)
	return e
}

// node starts one more server node on the env's database.
func (e *authEnv) node(cfg server.Config) (*sqlstore.Store, *server.Server, string) {
	st, err := sqlstore.OpenSQLite(context.Background(), e.path)
	require.NoError(e.t, err)
	srv := server.New(st, cfg, server.Options{Now: e.clock.Now})
	hs := httptest.NewServer(srv.Handler())
	e.t.Cleanup(func() {
		hs.Close()
		srv.Close()
		st.Close()
	})
	return st, srv, hs.URL
}

// user creates a user of app with testPassword.
func (e *authEnv) user(app, email, role string) *dc.User {
	u, err := server.CreateUser(context.Background(), e.store, app, email, testPassword, role, e.clock.Now())
	require.NoError(e.t, err)
	return u
}

// reply is an HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// errResp decodes the answer as an ErrorResponse.
func (r reply) errResp(t *testing.T) dc.ErrorResponse {
	t.Helper()
	var e dc.ErrorResponse
	require.NoError(t, json.Unmarshal(r.body, &e), "status %d: %s", r.status, r.body)
	return e
}

// refused asserts that the answer is an error of status and code.
func (r reply) refused(t *testing.T, status int, code string, msgAndArgs ...any) dc.ErrorResponse {
	t.Helper()
	assert.Equal(t, status, r.status, msgAndArgs...)
	e := r.errResp(t)
	assert.Equal(t, code, e.Code, msgAndArgs...)
	return e
}

// do sends a JSON request to base (the env's server when "") with the sync
// headers, the bearer token (if any) and hdr.
func (e *authEnv) do(base, method, path, token string, body any, hdr map[string]string) reply {
	e.t.Helper()
	if base == "" {
		base = e.url
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", wire.JSON)
	req.Header.Set("Accept", wire.JSON)
	req.Header.Set("X-Sync-Version", dc.ProtocolVersion)
	req.Header.Set("X-Client-ID", "device-1")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return reply{resp.StatusCode, resp.Header, b}
}

// tryLogin posts a login.
func (e *authEnv) tryLogin(app, email, password string, hdr map[string]string) reply {
	e.t.Helper()
	return e.do("", "POST", wire.PathLogin, "", &dc.LoginRequest{AppID: app, Email: email, Password: password}, hdr)
}

// login logs in, which must succeed.
func (e *authEnv) login(app, email string) *dc.LoginResponse {
	e.t.Helper()
	r := e.tryLogin(app, email, testPassword, nil)
	require.Equal(e.t, 200, r.status, "login: %s", r.body)
	var resp dc.LoginResponse
	require.NoError(e.t, json.Unmarshal(r.body, &resp))
	return &resp
}

// refresh posts a refresh token.
func (e *authEnv) refresh(token string) (reply, *dc.LoginResponse) {
	e.t.Helper()
	r := e.do("", "POST", wire.PathRefresh, "", &dc.RefreshRequest{RefreshToken: token}, nil)
	if r.status != 200 {
		return r, nil
	}
	var resp dc.LoginResponse
	require.NoError(e.t, json.Unmarshal(r.body, &resp))
	return r, &resp
}

// pull asks for the first page of the token's app.
func (e *authEnv) pull(token string) reply {
	e.t.Helper()
	return e.do("", "GET", wire.PullPath(dc.PullQuery{Limit: 10}), token, nil, nil)
}

// signingKey returns the server's HS256 key, as the store holds it.
func (e *authEnv) signingKey() []byte {
	k, err := e.store.Secret(context.Background(), "jwt-hs256", func() ([]byte, error) { panic("no key yet") })
	require.NoError(e.t, err)
	return k
}

// claimsOf returns the claims of a token, unverified.
func claimsOf(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	c := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(token, c)
	require.NoError(t, err)
	return c
}

// TestLoginIssuesShortLivedTokens: login answers a 15-minute access token
// with an id and a session, and a 30-day opaque refresh token.
func TestLoginIssuesShortLivedTokens(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	e.user("app1", "ana@example.org", dc.RoleSync)
	a, b := e.login("app1", "ana@example.org"), e.login("app1", "ana@example.org")
	assert.Equal(t, dc.FormatTime(e.clock.Now().Add(15*time.Minute)), a.ExpiresAt)
	assert.Equal(t, dc.FormatTime(e.clock.Now().Add(30*24*time.Hour)), a.RefreshExpiresAt)
	assert.Len(t, a.RefreshToken, 43, "32 bytes, base64url without padding")
	assert.NotEqual(t, a.RefreshToken, b.RefreshToken)
	ca, cb := claimsOf(t, a.Token), claimsOf(t, b.Token)
	assert.NotEmpty(t, ca["jti"])
	assert.NotEqual(t, ca["jti"], cb["jti"], "each token has its own id")
	assert.NotEmpty(t, ca["sid"])
	assert.NotEqual(t, ca["sid"], cb["sid"], "each login is its own session")
	assert.Equal(t, 200, e.pull(a.Token).status)
}

// TestTokenForgeries: tokens that are forged, expired, unsigned, signed
// with another algorithm, or for another issuer or audience are refused;
// the same claims signed properly are accepted.
func TestTokenForgeries(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	e.user("app1", "ana@example.org", dc.RoleSync)
	login := e.login("app1", "ana@example.org")
	key := e.signingKey()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	sign := func(m jwt.SigningMethod, k any, change func(jwt.MapClaims)) string {
		c := claimsOf(t, login.Token)
		c["jti"] = fmt.Sprintf("crafted-%d", time.Now().UnixNano())
		if change != nil {
			change(c)
		}
		s, err := jwt.NewWithClaims(m, c).SignedString(k)
		require.NoError(t, err)
		return s
	}
	good := sign(jwt.SigningMethodHS256, key, nil)
	require.Equal(t, 200, e.pull(good).status, "the claims signed properly are valid: the cases below differ by one thing")

	bad := map[string]string{
		"forged signature": sign(jwt.SigningMethodHS256, []byte("not the server's key, 32 bytes!!"), nil),
		"alg none":         sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil),
		"HS512":            sign(jwt.SigningMethodHS512, key, nil),
		"HS384":            sign(jwt.SigningMethodHS384, key, nil),
		"RS256":            sign(jwt.SigningMethodRS256, rsaKey, nil),
		"wrong issuer":     sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { c["iss"] = "someone-else" }),
		"wrong audience":   sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { c["aud"] = []string{"other-api"} }),
		"no expiry":        sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { delete(c, "exp") }),
		"no id":            sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { delete(c, "jti") }),
		"no session":       sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { delete(c, "sid") }),
		"unknown session":  sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { c["sid"] = "made-up" }),
		"expired (crafted)": sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) {
			c["exp"] = e.clock.Now().Add(-time.Minute).Unix()
		}),
		"tampered payload": func() string {
			p := strings.Split(good, ".")
			c := claimsOf(t, good)
			c["role"] = dc.RoleAdmin
			b, _ := json.Marshal(c)
			p[1] = base64.RawURLEncoding.EncodeToString(b)
			return strings.Join(p, ".")
		}(),
		"not a JWT": "not.a.jwt",
	}
	for name, tok := range bad {
		e.pull(tok).refused(t, 401, dc.EUNAUTHORIZED, name)
	}

	// The login's own token, once expired (the clock passes its 15
	// minutes and the 5 s leeway).
	e.clock.Advance(15*time.Minute + 6*time.Second)
	e.pull(login.Token).refused(t, 401, dc.EUNAUTHORIZED, "expired")
}

// pushBody is a push of one new individual.
func pushBody(guid string, data map[string]any) *dc.PushRequest {
	return &dc.PushRequest{Events: []*dc.Event{{GUID: guid, EntityGUID: "p-" + guid, Type: "create-individual",
		Data: data, Timestamp: "2026-11-25T10:00:00.000Z", SyncLevel: dc.Local}}}
}

// TestOtherAppRefused: a token of app A asking for app B, by query or
// header, on any authenticated endpoint, is refused with 403 and changes
// nothing; naming its own app is fine.
func TestOtherAppRefused(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	e.user("appA", "ana@example.org", dc.RoleAdmin)
	e.user("appB", "bo@example.org", dc.RoleAdmin)
	tok := e.login("appA", "ana@example.org").Token
	ctx := context.Background()

	type req struct {
		method, path string
		body         any
	}
	reqs := []req{
		{"POST", wire.PathPush, pushBody("e1", map[string]any{"name": "Ana"})},
		{"GET", wire.PullPath(dc.PullQuery{Limit: 10}), nil},
		{"GET", wire.PlanPath(0), nil},
		{"POST", wire.PathTelemetry, &dc.DeviceReport{Pending: 3}},
		{"POST", wire.PathRenew, nil},
		{"POST", wire.PathLogout, &dc.LogoutRequest{}},
		{"GET", "/api/v1/admin/devices", nil},
		{"GET", "/api/v1/admin/sync-log", nil},
		{"GET", "/api/v1/admin/duplicates", nil},
		{"GET", "/api/v1/admin/audit/verify", nil},
	}
	for _, r := range reqs {
		sep := "?"
		if strings.Contains(r.path, "?") {
			sep = "&"
		}
		e.do("", r.method, r.path+sep+"app=appB", tok, r.body, nil).refused(t, 403, dc.EFORBIDDEN, "%s %s ?app=appB", r.method, r.path)
		e.do("", r.method, r.path, tok, r.body, map[string]string{"X-App-ID": "appB"}).refused(t, 403, dc.EFORBIDDEN, "%s %s X-App-ID: appB", r.method, r.path)
		e.do("", r.method, r.path+sep+"app=appA", tok, r.body, map[string]string{"X-App-ID": "appB"}).refused(t, 403, dc.EFORBIDDEN, "%s %s mixed", r.method, r.path)
	}
	e.srv.FlushSyncLog()
	for _, app := range []string{"appA", "appB"} {
		n, err := e.store.CountAfter(ctx, app, 0)
		require.NoError(t, err)
		assert.Zero(t, n, "no event stored in %s", app)
		log, err := e.store.SyncLog(ctx, app, dc.SyncLogQuery{Limit: 10})
		require.NoError(t, err)
		assert.Empty(t, log, "nothing audited in %s", app)
		ds, err := e.store.Devices(ctx, app)
		require.NoError(t, err)
		assert.Empty(t, ds, "no device report in %s", app)
	}
	assert.Equal(t, 200, e.pull(tok).status, "the token was not logged out")

	// Naming the token's own app is allowed.
	r := e.do("", "POST", wire.PathPush+"?app=appA", tok, pushBody("e1", map[string]any{"name": "Ana"}), map[string]string{"X-App-ID": "appA"})
	require.Equal(t, 200, r.status, "%s", r.body)
	n, err := e.store.CountAfter(ctx, "appA", 0)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// TestRefreshRotation: a refresh token buys a new access token and a new
// refresh token of the same session, once; unknown and expired ones are
// refused.
func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	e.user("app1", "ana@example.org", dc.RoleSync)
	login := e.login("app1", "ana@example.org")

	e.clock.Advance(10 * time.Minute)
	r, next := e.refresh(login.RefreshToken)
	require.Equal(t, 200, r.status, "%s", r.body)
	assert.NotEqual(t, login.RefreshToken, next.RefreshToken)
	assert.NotEqual(t, login.Token, next.Token)
	assert.Equal(t, dc.FormatTime(e.clock.Now().Add(15*time.Minute)), next.ExpiresAt)
	assert.Equal(t, dc.FormatTime(e.clock.Now().Add(30*24*time.Hour)), next.RefreshExpiresAt)
	assert.Equal(t, login.UserID, next.UserID)
	assert.Equal(t, "app1", next.AppID)
	assert.Equal(t, login.AppKeyID, next.AppKeyID)
	assert.Equal(t, claimsOf(t, login.Token)["sid"], claimsOf(t, next.Token)["sid"], "same session")
	assert.Equal(t, 200, e.pull(next.Token).status)
	assert.Equal(t, 200, e.pull(login.Token).status, "rotation does not revoke the previous access token")

	// The new refresh token rotates in turn, after the first access
	// token expired.
	e.clock.Advance(20 * time.Minute)
	e.pull(login.Token).refused(t, 401, dc.EUNAUTHORIZED)
	r, third := e.refresh(next.RefreshToken)
	require.Equal(t, 200, r.status, "%s", r.body)
	assert.Equal(t, 200, e.pull(third.Token).status)

	msg := e.do("", "POST", wire.PathRefresh, "", &dc.RefreshRequest{RefreshToken: "bm90IGEgdG9rZW4"}, nil).refused(t, 401, dc.EUNAUTHORIZED).Message
	assert.Contains(t, msg, "unknown")
	e.do("", "POST", wire.PathRefresh, "", &dc.RefreshRequest{}, nil).refused(t, 401, dc.EUNAUTHORIZED)

	e.clock.Advance(30*24*time.Hour + time.Second)
	r, _ = e.refresh(third.RefreshToken)
	assert.Contains(t, r.refused(t, 401, dc.EUNAUTHORIZED).Message, "expired")
	e.pull(third.Token).refused(t, 401, dc.EUNAUTHORIZED, "an expired session's access token")
}

// TestRefreshReuseRevokesFamily: presenting a used refresh token again
// revokes every token of its session, access tokens included; other
// sessions of the user live on.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	e.user("app1", "ana@example.org", dc.RoleSync)
	login := e.login("app1", "ana@example.org")
	other := e.login("app1", "ana@example.org")

	_, next := e.refresh(login.RefreshToken) // the thief, say
	require.NotNil(t, next)
	e.clock.Advance(3 * time.Minute)      // past the reuse grace
	r, _ := e.refresh(login.RefreshToken) // the owner, later
	assert.Contains(t, r.refused(t, 401, dc.EUNAUTHORIZED).Message, "used already")

	r, _ = e.refresh(next.RefreshToken)
	assert.Contains(t, r.refused(t, 401, dc.EUNAUTHORIZED).Message, "revoked")
	e.pull(next.Token).refused(t, 401, dc.EUNAUTHORIZED, "the rotated access token")
	e.pull(login.Token).refused(t, 401, dc.EUNAUTHORIZED, "the first access token")
	e.do("", "POST", wire.PathRenew, login.Token, nil, nil).refused(t, 401, dc.EUNAUTHORIZED, "renew")

	assert.Equal(t, 200, e.pull(other.Token).status, "another session")
	r, _ = e.refresh(other.RefreshToken)
	assert.Equal(t, 200, r.status)
}

// TestRefreshAnswerLost: a refresh token presented again within the grace
// period (its answer was lost, or the request delivered twice) gets new
// tokens in the same session, and the first answer's tokens stay valid.
func TestRefreshAnswerLost(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	e.user("app1", "ana@example.org", dc.RoleSync)
	login := e.login("app1", "ana@example.org")
	_, lost := e.refresh(login.RefreshToken) // the answer never arrives
	require.NotNil(t, lost)
	e.clock.Advance(90 * time.Second)
	r, again := e.refresh(login.RefreshToken)
	require.Equal(t, 200, r.status)
	require.NotNil(t, again)
	assert.NotEqual(t, lost.RefreshToken, again.RefreshToken)
	assert.Equal(t, 200, e.pull(again.Token).status)
	assert.Equal(t, 200, e.pull(lost.Token).status, "the lost answer's token is still good")
	r, _ = e.refresh(again.RefreshToken)
	assert.Equal(t, 200, r.status)
}

// TestConcurrentRefresh: of concurrent refreshes with one token, exactly
// one rotates it; without a grace period the others are refused, with one
// (the default) they get new tokens in the same session.
func TestConcurrentRefresh(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{RefreshReuseGrace: -1})
	e.user("app1", "ana@example.org", dc.RoleSync)
	login := e.login("app1", "ana@example.org")
	const n = 4
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, _ := e.refresh(login.RefreshToken)
			statuses[i] = r.status
		})
	}
	wg.Wait()
	wins := 0
	for _, s := range statuses {
		if s == 200 {
			wins++
		} else {
			assert.Equal(t, 401, s)
		}
	}
	assert.Equal(t, 1, wins, "%v", statuses)
}

// TestLogout: logout revokes the access token and, with its refresh token,
// the session, on every node sharing the database; the user's other
// sessions live on.
func TestLogout(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	_, _, node2 := e.node(server.Config{})
	e.user("app1", "ana@example.org", dc.RoleSync)
	e.user("app1", "bo@example.org", dc.RoleSync)
	a := e.login("app1", "ana@example.org")
	renewed := e.do("", "POST", wire.PathRenew, a.Token, nil, nil)
	require.Equal(t, 200, renewed.status)
	var ra dc.LoginResponse
	require.NoError(t, json.Unmarshal(renewed.body, &ra))
	b := e.login("app1", "ana@example.org")
	bo := e.login("app1", "bo@example.org")

	e.do("", "POST", wire.PathLogout, "", &dc.LogoutRequest{}, nil).refused(t, 401, dc.EUNAUTHORIZED, "logout needs a bearer")
	// Ana logs out session a, and tries to log out Bo's session too.
	r := e.do("", "POST", wire.PathLogout, a.Token, &dc.LogoutRequest{RefreshToken: a.RefreshToken}, nil)
	require.Equal(t, 204, r.status, "%s", r.body)
	r = e.do("", "POST", wire.PathLogout, b.Token, &dc.LogoutRequest{RefreshToken: bo.RefreshToken}, nil)
	require.Equal(t, 204, r.status, "%s", r.body)

	for _, base := range []string{e.url, node2} {
		e.do(base, "GET", wire.PullPath(dc.PullQuery{Limit: 1}), a.Token, nil, nil).refused(t, 401, dc.EUNAUTHORIZED, "a's access token on %s", base)
		e.do(base, "GET", wire.PullPath(dc.PullQuery{Limit: 1}), ra.Token, nil, nil).refused(t, 401, dc.EUNAUTHORIZED, "a's renewed token on %s", base)
		e.do(base, "GET", wire.PullPath(dc.PullQuery{Limit: 1}), b.Token, nil, nil).refused(t, 401, dc.EUNAUTHORIZED, "b's access token on %s", base)
		assert.Equal(t, 200, e.do(base, "GET", wire.PullPath(dc.PullQuery{Limit: 1}), bo.Token, nil, nil).status, "Bo's session on %s", base)
	}
	rr, _ := e.refresh(a.RefreshToken)
	assert.Contains(t, rr.refused(t, 401, dc.EUNAUTHORIZED).Message, "revoked")
	rr, bNext := e.refresh(b.RefreshToken)
	require.Equal(t, 200, rr.status, "logout without its refresh token leaves the session: %s", rr.body)
	assert.Equal(t, 200, e.pull(bNext.Token).status)
	rr, _ = e.refresh(bo.RefreshToken)
	assert.Equal(t, 200, rr.status, "another user's refresh token is not revoked")

	// A bodiless logout revokes the access token.
	c := e.login("app1", "ana@example.org")
	req, err := http.NewRequest("POST", node2+wire.PathLogout, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 204, resp.StatusCode)
	e.pull(c.Token).refused(t, 401, dc.EUNAUTHORIZED)
}

// limited asserts that the answer is 429 ERATELIMIT with a Retry-After
// of at most max seconds, and returns it.
func limited(t *testing.T, r reply, max int, msgAndArgs ...any) (dc.ErrorResponse, int) {
	t.Helper()
	e := r.refused(t, 429, dc.ERATELIMIT, msgAndArgs...)
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", r.header.Get("Retry-After"))
	assert.True(t, secs >= 1 && secs <= max, "Retry-After %d", secs)
	return e, secs
}

// TestLoginFloodPerAccount: after 5 failed logins in 15 minutes an account
// answers 429 with Retry-After, even to the right password, for known and
// unknown accounts alike, until the window passes; a success clears the
// count.
func TestLoginFloodPerAccount(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	e.user("app1", "ana@example.org", dc.RoleSync)

	var known, unknown dc.ErrorResponse
	var knownWait, unknownWait int
	for _, email := range []string{"ana@example.org", "nobody@example.org"} {
		for i := range 5 {
			e.tryLogin("app1", email, "wrong password", nil).refused(t, 401, dc.EUNAUTHORIZED, "%s attempt %d", email, i+1)
			e.clock.Advance(time.Second)
		}
		er, wait := limited(t, e.tryLogin("app1", email, testPassword, nil), 15*60, email)
		if email == "ana@example.org" {
			known, knownWait = er, wait
		} else {
			unknown, unknownWait = er, wait
		}
		// Case and spaces do not make another account.
		limited(t, e.tryLogin(" APP1 ", " "+strings.ToUpper(email), testPassword, nil), 15*60, email)
	}
	assert.Equal(t, known, unknown, "a known and an unknown account are limited alike")
	assert.Equal(t, 15*60-5, knownWait, "Retry-After counts from the oldest failure")
	assert.Equal(t, knownWait, unknownWait)

	e.clock.Advance(15 * time.Minute)
	e.login("app1", "ana@example.org")

	// The success cleared the failures: five more are allowed.
	for i := range 5 {
		e.tryLogin("app1", "ana@example.org", "wrong password", nil).refused(t, 401, dc.EUNAUTHORIZED, "after success, attempt %d", i+1)
	}
	limited(t, e.tryLogin("app1", "ana@example.org", "wrong password", nil), 15*60)
}

// TestLoginFloodPerAddress: an address gets 20 login attempts a minute,
// whatever the accounts; X-Forwarded-For counts only behind a trusted
// proxy.
func TestLoginFloodPerAddress(t *testing.T) {
	t.Parallel()
	t.Run("default", func(t *testing.T) {
		t.Parallel()
		e := newAuthEnv(t, server.Config{})
		for i := range 20 {
			e.tryLogin("app1", fmt.Sprintf("u%d@example.org", i), "wrong password", nil).refused(t, 401, dc.EUNAUTHORIZED, "attempt %d", i+1)
		}
		limited(t, e.tryLogin("app1", "fresh@example.org", "wrong password", nil), 60)
		// A forged X-Forwarded-For does not help without TrustProxy.
		limited(t, e.tryLogin("app1", "fresh@example.org", "wrong password", map[string]string{"X-Forwarded-For": "203.0.113.9"}), 60)
		e.clock.Advance(time.Minute)
		e.tryLogin("app1", "fresh@example.org", "wrong password", nil).refused(t, 401, dc.EUNAUTHORIZED, "after a minute")
	})
	t.Run("trusted proxy", func(t *testing.T) {
		t.Parallel()
		e := newAuthEnv(t, server.Config{TrustProxy: true, LoginAttemptsPerAddress: 3})
		xff := func(chain string) map[string]string { return map[string]string{"X-Forwarded-For": chain} }
		for i := range 3 {
			// The client's own (forged) entries before the proxy's vary.
			e.tryLogin("app1", fmt.Sprintf("u%d@example.org", i), "x", xff(fmt.Sprintf("10.0.0.%d, 198.51.100.7", i))).refused(t, 401, dc.EUNAUTHORIZED)
		}
		limited(t, e.tryLogin("app1", "u9@example.org", "x", xff("198.51.100.7")), 60)
		e.tryLogin("app1", "u9@example.org", "x", xff("198.51.100.8")).refused(t, 401, dc.EUNAUTHORIZED, "another client")
	})
}

// TestUnknownAccountIndistinguishable: a wrong password, an unknown email
// and an unknown app get the same answer, at a similar cost. (Not
// parallel: it measures time.)
func TestUnknownAccountIndistinguishable(t *testing.T) {
	e := newAuthEnv(t, server.Config{})
	e.user("app1", "ana@example.org", dc.RoleSync)
	// timed returns the answer and the fastest of three attempts (well
	// under the account limit).
	timed := func(app, email string) (reply, time.Duration) {
		var r reply
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			r = e.tryLogin(app, email, "wrong password", nil)
			best = min(best, time.Since(start))
		}
		return r, best
	}
	known, kd := timed("app1", "ana@example.org")
	assert.Equal(t, 401, known.status)
	for _, c := range [][2]string{{"app1", "nobody@example.org"}, {"nope", "ana@example.org"}} {
		r, d := timed(c[0], c[1])
		assert.Equal(t, known.status, r.status, c)
		assert.Equal(t, known.errResp(t), r.errResp(t), c)
		assert.Equal(t, known.header.Get("Content-Type"), r.header.Get("Content-Type"))
		// bcrypt dominates both: an unknown account must not be answered
		// several times faster.
		assert.Greater(t, d, kd/4, "unknown account %v answered in %v, known in %v", c, d, kd)
	}
}

// TestRefreshDeletedUser: a refresh token of a user who no longer exists
// is refused, and its session revoked.
func TestRefreshDeletedUser(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	e.user("app1", "ana@example.org", dc.RoleSync)
	login := e.login("app1", "ana@example.org")
	db, err := sql.Open("sqlite", e.path)
	require.NoError(t, err)
	_, err = db.Exec(`DELETE FROM users WHERE email = 'ana@example.org'`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	r, _ := e.refresh(login.RefreshToken)
	assert.Contains(t, r.refused(t, 401, dc.EUNAUTHORIZED).Message, "no longer exists")
	e.pull(login.Token).refused(t, 401, dc.EUNAUTHORIZED, "the session ended")
}
