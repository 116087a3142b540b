//go:build !js

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/internal/pgtest"
	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/server/sqlstore"
	"github.com/datacollect/datacollect/wire"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestUserAddAndServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "dc.db")
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb}
	require.NoError(t, m.Run(ctx, []string{"user", "add", "-db", db, "-app", "a1", "-email", "x@y.org", "-password", "long enough"}))
	assert.Contains(t, out.String(), "created sync user x@y.org of app a1")
	err := m.Run(ctx, []string{"user", "add", "-db", db, "-app", "a1", "-email", "X@y.org", "-password", "long enough"})
	assert.ErrorContains(t, err, "EEXISTS")
	err = m.Run(ctx, []string{"user", "add", "-db", db, "-app", "a1", "-email", "z@y.org", "-password", "short"})
	assert.ErrorContains(t, err, "8 characters")
	assert.Error(t, m.Run(ctx, []string{"bogus"}))
	assert.Error(t, m.Run(ctx, nil))

	// serve -demo creates the demo user once and answers /healthz.
	ready := make(chan string, 1)
	out.Reset()
	sctx, cancel := context.WithCancel(ctx)
	m = &Main{Stdout: &out, Stderr: &errb, Ready: ready}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(sctx, []string{"serve", "-addr", "127.0.0.1:0", "-db", db, "-web", "../..", "-demo"})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, errb.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	resp, err = http.Get("http://" + addr + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "Created the demo user.")
	assert.Contains(t, out.String(), "Demo login: app \"demo\"")
}

// api calls the sync API of base as device with token, in JSON, and
// returns the status and the body.
func api(t *testing.T, base, method, path, token, device, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", wire.JSON)
	req.Header.Set("Accept", wire.JSON)
	req.Header.Set("X-Sync-Version", dc.ProtocolVersion)
	req.Header.Set("X-Client-ID", device)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// login returns a token of a new sync user of app.
func login(t *testing.T, s dc.ServerStore, base, app, email string) (token, userID string) {
	t.Helper()
	_, err := server.CreateUser(ctx, s, app, email, "long enough", dc.RoleSync, time.Now())
	require.NoError(t, err)
	status, body := api(t, base, "POST", wire.PathLogin, "", "",
		fmt.Sprintf(`{"appId":%q,"email":%q,"password":"long enough"}`, app, email))
	require.Equal(t, 200, status, "%s", body)
	var resp dc.LoginResponse
	require.NoError(t, json.Unmarshal(body, &resp))
	return resp.Token, resp.UserID
}

var ctx = context.Background()

// syncedDB fills the fresh database db: in app a1, device tablet-1
// pushed two people, pulled them, failed a push and reported its
// telemetry, and device phone-2 pulled; app a2 has a device of its own.
func syncedDB(t *testing.T, db string) (user1, user2 string) {
	s, err := sqlstore.Open(ctx, db)
	require.NoError(t, err)
	defer s.Close()
	hs := httptest.NewServer(server.New(s, server.Config{}, server.Options{}).Handler())
	defer hs.Close()
	tok1, user1 := login(t, s, hs.URL, "a1", "one@example.org")
	tok2, user2 := login(t, s, hs.URL, "a1", "two@example.org")
	tok3, _ := login(t, s, hs.URL, "a2", "three@example.org")
	ev := func(guid, entity string) string {
		return fmt.Sprintf(`{"guid":%q,"entityGuid":%q,"type":"create-individual","data":{"name":"A"},`+
			`"timestamp":"2026-11-25T08:00:00.000Z","syncLevel":"LOCAL"}`, guid, entity)
	}
	for _, c := range []struct {
		method, path, token, device, body string
		status                            int
	}{
		{"POST", wire.PathPush, tok1, "tablet-1", `{"events":[` + ev("e1", "p1") + `,` + ev("e2", "p2") + `]}`, 200},
		{"GET", wire.PullPath(dc.PullQuery{Limit: 10}), tok1, "tablet-1", "", 200},
		{"POST", wire.PathPush, tok1, "tablet-1", `{"events":[]}`, 400},
		{"GET", wire.PullPath(dc.PullQuery{Limit: 10}), tok2, "phone-2", "", 200},
		{"POST", wire.PathTelemetry, tok1, "tablet-1", `{"lastSyncTime":"2026-11-25T08:00:01Z","pending":3,"failed":1,` +
			`"conflicts":2,"lastError":"EINVALID: push has\tno events","cursor":2,"metrics":{"syncDuration":250,` +
			`"entitiesSynced":2,"bytesTransferred":900,"conflictsResolved":0,"errorsEncountered":1,"retryAttempts":4}}`, 204},
		{"POST", wire.PathTelemetry, tok3, "other-app", `{"pending":9}`, 204},
	} {
		status, body := api(t, hs.URL, c.method, c.path, c.token, c.device, c.body)
		require.Equal(t, c.status, status, "%s %s: %s", c.method, c.path, body)
	}
	return user1, user2
}

// rows returns the fields of out's lines that start with prefix.
func rows(out, prefix string) [][]string {
	var r [][]string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			r = append(r, strings.Fields(l))
		}
	}
	return r
}

func TestInspect(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testInspect(t, filepath.Join(t.TempDir(), "dc.db")) })
	t.Run("postgres", func(t *testing.T) { testInspect(t, pgtest.DSN(t)) })
}

func testInspect(t *testing.T, db string) {
	user1, user2 := syncedDB(t, db)
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errb}
		require.NoError(t, m.Run(ctx, append([]string{"inspect", "-db", db}, args...)), errb.String())
		return out.String()
	}

	out := run("-app", "a1")
	assert.Contains(t, out, "app a1: 2 events, latest seq 2\n")
	assert.Contains(t, out, "devices (1):\n")
	assert.Regexp(t, `DEVICE +USER +REPORTED +LAST SYNC +PENDING +FAILED +CONFLICTS +DURATION MS +RETRIES +ERRORS +LAST ERROR`, out)
	dev := rows(out, "tablet-1")
	require.Len(t, dev, 1, out)
	assert.Equal(t, user1, dev[0][1])
	assert.Equal(t, []string{"2026-11-25T08:00:01Z", "3", "1", "2", "250", "4", "1", "EINVALID:", "push", "has", "no", "events"},
		dev[0][3:], "a tab in the error is shown as a space")
	_, err := dc.ParseTime(dev[0][2])
	assert.NoError(t, err, "the report's time")

	assert.Contains(t, out, "sync log (last 4):\n")
	assert.Regexp(t, `ID +TIME +OP +DEVICE +USER +ENTITIES +EVENTS +DURATION MS +STATUS +ERROR`, out)
	var log [][]string
	for _, id := range []string{"1 ", "2 ", "3 ", "4 "} {
		r := rows(out, id)
		require.Len(t, r, 1, "entry %s\n%s", id, out)
		log = append(log, r[0])
	}
	summary := func(r []string) string { // op device user entities events status
		return strings.Join([]string{r[2], r[3], r[4], r[5], r[6], r[8]}, " ")
	}
	assert.Equal(t, "push tablet-1 "+user1+" 2 2 ok", summary(log[0]))
	assert.Equal(t, "pull tablet-1 "+user1+" 2 2 ok", summary(log[1]))
	assert.Equal(t, "push tablet-1 "+user1+" 0 0 error", summary(log[2]))
	assert.Equal(t, "pull phone-2 "+user2+" 2 2 ok", summary(log[3]))
	assert.Equal(t, "EINVALID: push has no events", strings.Join(log[2][9:], " "))
	assert.Equal(t, "-", log[0][9], "no error")

	// -log N: the newest N entries.
	out = run("-app", "a1", "-log", "2")
	assert.Contains(t, out, "sync log (last 2):\n")
	assert.Empty(t, rows(out, "1 "))
	assert.Len(t, rows(out, "3 "), 1)
	assert.Len(t, rows(out, "4 "), 1)
	out = run("-app", "a1", "-log", "0")
	assert.NotContains(t, out, "sync log")

	// -device: that device only.
	out = run("-app", "a1", "-device", "phone-2")
	assert.Contains(t, out, "device phone-2 has not reported\n")
	assert.Contains(t, out, "sync log of device phone-2 (last 1):\n")
	assert.Len(t, rows(out, "4 "), 1)
	assert.Empty(t, rows(out, "tablet-1"))

	// -json: one object.
	var in inspection
	require.NoError(t, json.Unmarshal([]byte(run("-app", "a1", "-device", "tablet-1", "-json")), &in))
	assert.Equal(t, "a1", in.App)
	assert.Equal(t, 2, in.Events)
	assert.Equal(t, int64(2), in.LatestSeq)
	require.Len(t, in.Devices, 1)
	assert.Equal(t, "tablet-1", in.Devices[0].DeviceID)
	assert.Equal(t, 4, in.Devices[0].Report.Metrics.RetryAttempts)
	assert.Equal(t, "EINVALID: push has\tno events", in.Devices[0].Report.LastError, "JSON shows the error as it is")
	require.Len(t, in.SyncLog, 3)
	for i, a := range in.SyncLog {
		assert.Equal(t, int64(i+1), a.ID)
		assert.Equal(t, "tablet-1", a.DeviceID)
	}

	// Another app, and one that has nothing.
	out = run("-app", "a2")
	assert.Contains(t, out, "app a2: 0 events, latest seq 0\n")
	assert.Len(t, rows(out, "other-app"), 1)
	assert.Contains(t, out, "sync log: empty\n")
	out = run("-app", "none")
	assert.Contains(t, out, "no device has reported\n")
	require.NoError(t, json.Unmarshal([]byte(run("-app", "none", "-json")), &in))
	assert.Empty(t, in.Devices)
	assert.NotNil(t, in.Devices, "empty lists are [] in JSON")

	// Bad arguments.
	m := &Main{Stdout: io.Discard, Stderr: io.Discard}
	assert.ErrorContains(t, m.Run(ctx, []string{"inspect", "-db", db}), "-app")
	assert.ErrorContains(t, m.Run(ctx, []string{"inspect", "-db", db, "-app", "a1", "-log", "-1"}), "-log")
	if strings.HasPrefix(db, "postgres") {
		return
	}
	missing := filepath.Join(t.TempDir(), "nope.db")
	assert.Error(t, m.Run(ctx, []string{"inspect", "-db", missing, "-app", "a1"}))
	_, err = os.Stat(missing)
	assert.True(t, os.IsNotExist(err), "inspect creates no database")
}
