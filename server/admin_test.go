//go:build !js

package server_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/wire"
)

// adminPaths are the admin endpoints.
var adminPaths = []string{
	"/api/v1/admin/devices",
	"/api/v1/admin/sync-log",
	"/api/v1/admin/duplicates",
	"/api/v1/admin/audit/verify",
}

// TestAdminEndpoints: a sync user is refused (403) on every admin
// endpoint, an anonymous caller too (401); an admin gets the app's
// devices, sync log, duplicates and audit-chain check, in JSON, and only
// of the token's app.
func TestAdminEndpoints(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	e.user("app1", "worker@example.org", dc.RoleSync)
	e.user("app1", "boss@example.org", dc.RoleAdmin)
	e.user("app2", "other@example.org", dc.RoleSync)
	worker := e.login("app1", "worker@example.org").Token
	boss := e.login("app1", "boss@example.org").Token
	other := e.login("app2", "other@example.org").Token

	// The worker's device syncs two people sharing a national id, and
	// reports; app2 has data of its own.
	r := e.do("", "POST", wire.PathPush, worker, &dc.PushRequest{Events: []*dc.Event{
		pushBody("e1", map[string]any{"name": "Amina", "nationalId": "AB 1"}).Events[0],
		pushBody("e2", map[string]any{"name": "Amina W", "nationalId": "ab 1"}).Events[0],
	}}, nil)
	require.Equal(t, 200, r.status, "%s", r.body)
	require.Equal(t, 204, e.do("", "POST", wire.PathTelemetry, worker, &dc.DeviceReport{Pending: 2}, nil).status)
	require.Equal(t, 200, e.pull(worker).status)
	require.Equal(t, 200, e.do("", "POST", wire.PathPush, other, pushBody("x1", map[string]any{"name": "X", "nationalId": "AB 1"}), map[string]string{"X-Client-ID": "other-device"}).status)
	require.Equal(t, 200, e.do("", "POST", wire.PathPush, other, pushBody("x2", map[string]any{"name": "Y", "nationalId": "AB 1"}), map[string]string{"X-Client-ID": "other-device"}).status)
	require.Equal(t, 204, e.do("", "POST", wire.PathTelemetry, other, &dc.DeviceReport{}, map[string]string{"X-Client-ID": "other-device"}).status)
	e.srv.FlushSyncLog()

	for _, p := range adminPaths {
		e.do("", "GET", p, worker, nil, nil).refused(t, 403, dc.EFORBIDDEN, "sync user on %s", p)
		e.do("", "GET", p, "", nil, nil).refused(t, 401, dc.EUNAUTHORIZED, "anonymous on %s", p)
		r := e.do("", "GET", p, boss, nil, map[string]string{"Accept": "*/*"})
		assert.Equal(t, 200, r.status, "admin on %s: %s", p, r.body)
		assert.Equal(t, wire.JSON, r.header.Get("Content-Type"), p)
	}

	var devices server.AdminDevices
	decode(t, e.do("", "GET", "/api/v1/admin/devices", boss, nil, nil), &devices)
	require.Len(t, devices.Devices, 1, "only app1's devices")
	assert.Equal(t, "device-1", devices.Devices[0].DeviceID)
	assert.Equal(t, 2, devices.Devices[0].Report.Pending)

	var log server.AdminSyncLog
	decode(t, e.do("", "GET", "/api/v1/admin/sync-log?since=0&limit=1", boss, nil, nil), &log)
	require.Len(t, log.Entries, 1)
	assert.Equal(t, dc.AuditPush, log.Entries[0].Action)
	assert.Equal(t, 2, log.Entries[0].Events)
	assert.True(t, log.HasMore, "the pull follows")
	assert.Equal(t, log.Entries[0].ID, log.Next)
	var rest server.AdminSyncLog
	decode(t, e.do("", "GET", "/api/v1/admin/sync-log?since=1", boss, nil, nil), &rest)
	require.Len(t, rest.Entries, 1, "only app1's push and pull are app1's log")
	assert.Equal(t, dc.AuditPull, rest.Entries[0].Action)
	assert.False(t, rest.HasMore)
	e.do("", "GET", "/api/v1/admin/sync-log?limit=-1", boss, nil, nil).refused(t, 400, dc.EINVALID)

	var dups server.AdminDuplicates
	decode(t, e.do("", "GET", "/api/v1/admin/duplicates", boss, nil, nil), &dups)
	require.Len(t, dups.Groups, 1)
	assert.Equal(t, "individual|ab 1", dups.Groups[0].Key)
	guids := []string{dups.Groups[0].Entities[0].GUID, dups.Groups[0].Entities[1].GUID}
	assert.ElementsMatch(t, []string{"p-e1", "p-e2"}, guids, "only app1's entities")

	var audit server.AdminAuditVerify
	decode(t, e.do("", "GET", "/api/v1/admin/audit/verify", boss, nil, nil), &audit)
	assert.Equal(t, "app1", audit.App)
	assert.True(t, audit.Intact)
	assert.Nil(t, audit.Broken)
	assert.Positive(t, audit.Checked)
}

// decode decodes a 200 JSON answer into v.
func decode(t *testing.T, r reply, v any) {
	t.Helper()
	require.Equal(t, 200, r.status, "%s", r.body)
	require.NoError(t, json.Unmarshal(r.body, v))
}

// TestNothingSecretUnauthenticated: no route answers an anonymous caller
// with a key, a token or a password hash.
func TestNothingSecretUnauthenticated(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	e.user("app1", "boss@example.org", dc.RoleAdmin)
	login := e.login("app1", "boss@example.org")
	u, err := e.store.UserByEmail(context.Background(), "app1", "boss@example.org")
	require.NoError(t, err)
	key := e.signingKey()
	secrets := map[string]string{
		"signing key (hex)":    hex.EncodeToString(key),
		"signing key (base64)": base64.StdEncoding.EncodeToString(key),
		"signing key (url)":    base64.RawURLEncoding.EncodeToString(key),
		"app key":              base64.StdEncoding.EncodeToString(login.AppKey),
		"refresh token":        login.RefreshToken,
		"password hash":        u.PasswordHash,
		"access token":         login.Token,
	}
	paths := append([]string{"/healthz", "/metrics", "/", "/api/v1/nope", wire.PathPull, wire.PathRenew}, adminPaths...)
	for _, p := range paths {
		for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer x"}} {
			r := e.do("", "GET", p, "", nil, hdr)
			for name, v := range secrets {
				assert.NotContains(t, string(r.body), v, "%s answers the %s", p, name)
			}
		}
	}
	r := e.do("", "POST", wire.PathRefresh, "", &dc.RefreshRequest{RefreshToken: "x"}, nil)
	r.refused(t, 401, dc.EUNAUTHORIZED)
}

// TestAdminDemoted: an admin token of a user who is no longer an admin in
// the store is refused at once, not only when the token expires.
func TestAdminDemoted(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, server.Config{})
	e.user("app1", "boss@example.org", dc.RoleAdmin)
	boss := e.login("app1", "boss@example.org").Token
	require.Equal(t, 200, e.do("", "GET", adminPaths[0], boss, nil, nil).status)
	db, err := sql.Open("sqlite", e.path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE users SET role = 'sync' WHERE email = 'boss@example.org'`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	for _, p := range adminPaths {
		e.do("", "GET", p, boss, nil, nil).refused(t, 403, dc.EFORBIDDEN, p)
	}
}
