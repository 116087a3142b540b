//go:build !js

package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/external"
	"github.com/datacollect/datacollect/external/openspp"
	"github.com/datacollect/datacollect/external/openspp/standin"
	"github.com/datacollect/datacollect/httpsync"
	"github.com/datacollect/datacollect/server"
)

const (
	extSecret   = "s3cret-Pa55word-never-shown"
	extROSecret = "ro-Pa55word-never-shown"
)

// extEnv is a server with an OpenSPP stand-in configured for app "ext".
type extEnv struct {
	*env
	srv *standin.Server
	app string
}

func newExtEnv(t *testing.T, e *env, pageSize int) *extEnv {
	srv := standin.Start(t, standin.Options{Seed: true, Password: extSecret, ReadOnlyLogin: "viewer",
		ReadOnlyPassword: extROSecret, NationalIDPattern: `^[A-Z]{2}[0-9]+$`})
	x := &extEnv{env: e, srv: srv, app: "ext"}
	x.configure(t, srv.Login(), extSecret, pageSize)
	return x
}

func (x *extEnv) configure(t *testing.T, login, secret string, pageSize int) {
	t.Helper()
	_, err := server.SetExternalConfig(ctx, x.store, x.app, server.ExternalSettings{Enabled: true, Config: external.Config{
		Adapter: openspp.Name, URL: x.srv.URL(), Database: x.srv.DB(), Login: login, Secret: secret, PageSize: pageSize}}, time.Now())
	require.NoError(t, err)
}

func (x *extEnv) run(t *testing.T) *server.ExternalSummary {
	t.Helper()
	sum, err := x.server.RunExternalSync(ctx, x.app, nil)
	require.NoError(t, err)
	return sum
}

func (x *extEnv) count(t *testing.T, model string, domain ...any) int {
	t.Helper()
	n, err := x.srv.Count(model, domain)
	require.NoError(t, err)
	return n
}

// admin logs an admin of app in and returns a function calling the admin
// API with its token: status and body.
func (x *extEnv) adminToken(t *testing.T, role string) string {
	t.Helper()
	email := fmt.Sprintf("%s%d@ext.example", role, x.n.Add(1))
	_, err := server.CreateUser(ctx, x.store, x.app, email, "correct horse", role, x.clock.Now())
	require.NoError(t, err)
	tr := &httpsync.Client{BaseURL: x.http.URL, AppID: x.app, ClientID: "admin-console"}
	login, err := tr.Login(ctx, email, "correct horse")
	require.NoError(t, err)
	return login.Token
}

func (x *extEnv) call(t *testing.T, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, x.http.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func isGroupDomain(b bool) []any { return []any{[]any{"is_group", "=", b}} }

// TestExternalSyncOpenSPP: a household recorded on a device reaches the
// stand-in OpenSPP once, the external ids come back to the device, an edit
// in OpenSPP reaches the device, a crash between create and write-back
// makes no duplicate, failures are per record, and nothing echoes.
func TestExternalSyncOpenSPP(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		x := newExtEnv(t, e, 50)
		a := e.device(x.app)
		a.submit(t, client.Form{Type: "create-group", Data: map[string]any{"name": "Household Mwangi", "members": []any{
			map[string]any{"name": "Amina Mwangi", "nationalId": "KE1001", "gender": "female"},
			map[string]any{"name": "Juma Mwangi", "nationalId": "KE1002", "gender": "male"},
			map[string]any{"name": "Neema Mwangi", "nationalId": "KE1003"},
		}}})
		a.sync(t)

		sum := x.run(t)
		assert.Equal(t, 4, sum.Pushed, "%+v", sum)
		assert.Equal(t, 4, sum.Created)
		assert.Zero(t, sum.Failed)
		assert.Empty(t, sum.Error)
		assert.Equal(t, 1, x.count(t, standin.Partner, isGroupDomain(true)...))
		assert.Equal(t, 3, x.count(t, standin.Partner, isGroupDomain(false)...))
		assert.Equal(t, 3, x.count(t, standin.Membership))
		assert.Equal(t, 3, x.count(t, standin.RegID))

		// Every entity got its external id, and the device pulls it.
		a.sync(t)
		ents := a.entities(t)
		require.Len(t, ents, 4)
		for _, en := range ents {
			assert.NotEmpty(t, en.ExternalID, en.GUID)
			assert.Equal(t, dc.External, en.SyncLevel, en.GUID)
		}

		// A second run pushes nothing and applies nothing: no echo.
		sum = x.run(t)
		assert.Zero(t, sum.Pushed, "%+v", sum)
		assert.Zero(t, sum.Applied, "%+v", sum)

		// An edit in OpenSPP reaches the device.
		var amina *dc.Entity
		for _, en := range ents {
			if en.Data["name"] == "Amina Mwangi" {
				amina = en
			}
		}
		require.NotNil(t, amina)
		var id int
		_, err := fmt.Sscan(amina.ExternalID, &id)
		require.NoError(t, err)
		x.srv.Advance(2 * time.Second)
		require.NoError(t, x.srv.Write(standin.Partner, []int{id}, map[string]any{"phone": "+254700000001"}))
		sum = x.run(t)
		assert.Equal(t, 1, sum.Applied, "%+v", sum)
		assert.Zero(t, sum.Pushed, "the pulled change is not pushed back")
		a.sync(t)
		got := a.entities(t)[amina.GUID]
		assert.Equal(t, "+254700000001", got.Data["phone"])
		assert.Equal(t, dc.External, got.SyncLevel)
		sum = x.run(t)
		assert.Zero(t, sum.Pushed+sum.Applied, "%+v", sum)

		// A crash between the create in OpenSPP and the write-back: the
		// next attempt finds the record, no duplicate.
		a.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Zawadi Otieno"}})
		a.sync(t)
		x.srv.DropAfterNext(1, standin.Partner, "create")
		sum = x.run(t)
		assert.Equal(t, 1, sum.Failed, "%+v", sum)
		assert.Equal(t, 1, x.count(t, standin.Partner, []any{"name", "=", "Zawadi Otieno"}))
		e.clock.Advance(2 * time.Hour) // past the backoff (and the token's expiry)
		a = e.device(x.app)
		a.sync(t)
		sum = x.run(t)
		assert.Equal(t, 1, sum.Pushed, "%+v", sum)
		assert.Zero(t, sum.Created, "found, not created again")
		assert.Equal(t, 1, x.count(t, standin.Partner, []any{"name", "=", "Zawadi Otieno"}))

		// Validation errors are per record; the others go through.
		a.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Bad Gender", "gender": "robot"}})
		a.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Bad ID", "nationalId": "not an id"}})
		a.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Good One", "nationalId": "KE2000"}})
		a.sync(t)
		sum = x.run(t)
		assert.Equal(t, 1, sum.Pushed, "%+v", sum)
		assert.Equal(t, 2, sum.Failed)
		admin := x.adminToken(t, dc.RoleAdmin)
		status, body := x.call(t, admin, "GET", "/api/v1/admin/external/failures", "")
		require.Equal(t, 200, status, body)
		assert.Equal(t, 2, strings.Count(body, `"lastCode":"EVALIDATION"`), body)

		// Access error: a read-only login; then the wrong secret.
		x.configure(t, "viewer", extROSecret, 50)
		a.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Read Only"}})
		a.sync(t)
		sum = x.run(t)
		assert.Equal(t, 1, sum.Failed, "%+v", sum)
		status, body = x.call(t, admin, "GET", "/api/v1/admin/external/failures", "")
		require.Equal(t, 200, status, body)
		assert.Contains(t, body, `"lastCode":"EACCESS"`)
		x.configure(t, x.srv.Login(), "wrong secret", 50)
		status, body = x.call(t, admin, "POST", "/api/v1/admin/external/retry", "")
		require.Equal(t, 200, status, body)
		status, body = x.call(t, admin, "POST", "/api/v1/admin/external/sync", "")
		require.Equal(t, 200, status, body)
		assert.Contains(t, body, "EAUTH")
		status, body = x.call(t, admin, "GET", "/api/v1/admin/external/failures", "")
		require.Equal(t, 200, status, body)
		assert.Contains(t, body, `"lastCode":"EAUTH"`)

		// Fixed: the retried records go through, except the invalid ones.
		status, body = x.call(t, admin, "PUT", "/api/v1/admin/external/config",
			fmt.Sprintf(`{"adapter":"openspp","url":%q,"database":%q,"login":%q,"secret":%q,"pageSize":50}`,
				x.srv.URL(), x.srv.DB(), x.srv.Login(), extSecret))
		require.Equal(t, 200, status, body)
		assert.Contains(t, body, `"secret":"[REDACTED]"`)
		status, body = x.call(t, admin, "POST", "/api/v1/admin/external/retry", "")
		require.Equal(t, 200, status, body)
		status, body = x.call(t, admin, "POST", "/api/v1/admin/external/sync", "")
		require.Equal(t, 200, status, body)
		assert.Contains(t, body, `"pushed":1`, body)
		assert.Contains(t, body, `"failed":2`, body)
		status, body = x.call(t, admin, "GET", "/api/v1/admin/external/status", "")
		require.Equal(t, 200, status, body)
		assert.Contains(t, body, `"failed":2`)
		assert.Contains(t, body, `"secret":"[REDACTED]"`)
		assert.Equal(t, 1, x.count(t, standin.Partner, []any{"name", "=", "Read Only"}))

		// The admin API refuses a sync user, and never shows a secret.
		syncUser := x.adminToken(t, dc.RoleSync)
		for _, c := range []struct{ method, path, body string }{
			{"PUT", "/api/v1/admin/external/config", `{"adapter":"openspp"}`},
			{"POST", "/api/v1/admin/external/sync", ""},
			{"GET", "/api/v1/admin/external/status", ""},
			{"GET", "/api/v1/admin/external/failures", ""},
			{"POST", "/api/v1/admin/external/retry", ""},
		} {
			status, body := x.call(t, syncUser, c.method, c.path, c.body)
			assert.Equal(t, http.StatusForbidden, status, "%s %s: %s", c.method, c.path, body)
			status, body = x.call(t, admin, c.method, c.path, c.body)
			assert.NotContains(t, body, extSecret, "%s %s", c.method, c.path)
			assert.NotContains(t, body, extROSecret, "%s %s", c.method, c.path)
			_ = status
		}
		// A run under way elsewhere: the second answers ECONFLICT.
		es := x.store.(dc.ExternalStore)
		ok, err := es.AcquireExternalLease(ctx, x.app, "other-node", e.clock.Now(), time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		_, err = x.server.RunExternalSync(ctx, x.app, nil)
		assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err))
		require.NoError(t, es.ReleaseExternalLease(ctx, x.app, "other-node"))
	})
}

// TestExternalPullFrozenPages: 2,000 records created in OpenSPP with one
// write_date are pulled in small pages, each reaching the server exactly
// once, and a re-run pulls nothing new.
func TestExternalPullFrozenPages(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		x := newExtEnv(t, e, 64)
		x.srv.Freeze(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
		for i := range 2000 {
			_, err := x.srv.Create(standin.Partner, map[string]any{"name": fmt.Sprintf("Person %04d", i), "is_registrant": true})
			require.NoError(t, err)
		}
		sum := x.run(t)
		assert.Equal(t, 2000, sum.Pulled, "%+v", sum)
		assert.Equal(t, 2000, sum.Applied)
		assert.Empty(t, sum.Error)
		n, err := x.store.CountAfter(ctx, x.app, 0)
		require.NoError(t, err)
		assert.Equal(t, 4000, n, "a create and a link-external per record")
		sum = x.run(t)
		assert.Zero(t, sum.Pulled+sum.Applied+sum.Pushed, "%+v", sum)
		// A device gets them all, linked.
		d := e.device(x.app)
		d.sync(t)
		ents := d.entities(t)
		assert.Len(t, ents, 2000)
		for _, en := range ents {
			require.NotEmpty(t, en.ExternalID)
			require.Equal(t, dc.External, en.SyncLevel)
		}
	})
}
