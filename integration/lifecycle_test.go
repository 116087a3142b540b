//go:build !js

package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/httpsync"
	"github.com/datacollect/datacollect/wire"
)

// The sync lifecycle seen from the server: every push and pull is audited
// into the app's sync log, pulls bring the log's entries that affected
// entities, plan counts without changing anything, and devices report
// their telemetry.

// transport is a logged-in transport of a new sync user of app, without a
// client: the tests drive the protocol themselves.
func (e *env) transport(t *testing.T, app string) (*httpsync.Client, *dc.LoginResponse) {
	t.Helper()
	email, pw := e.user(app)
	tr := &httpsync.Client{BaseURL: e.http.URL, AppID: app, ClientID: fmt.Sprintf("dev-%d", e.n.Add(1))}
	login, err := tr.Login(ctx, email, pw)
	require.NoError(t, err)
	return tr, login
}

// syncLog returns the app's whole sync log.
func (e *env) syncLog(t *testing.T, app string) []*dc.AuditEntry {
	t.Helper()
	log, err := e.store.SyncLog(ctx, app, dc.SyncLogQuery{Limit: 10000})
	require.NoError(t, err)
	return log
}

// create returns a new person's create event.
func create(guid, entity string) *dc.Event {
	return &dc.Event{GUID: guid, EntityGUID: entity, Type: "create-individual", Data: map[string]any{"name": guid},
		Timestamp: "2026-11-25T08:00:00.000Z", SyncLevel: dc.Local}
}

// update returns an event that renames a person, based on version base.
func update(guid, entity string, base int64) *dc.Event {
	return &dc.Event{GUID: guid, EntityGUID: entity, Type: "update-individual", Data: map[string]any{"name": guid},
		Timestamp: "2026-11-25T08:00:00.000Z", SyncLevel: dc.Local, BaseVersion: base}
}

func push(t *testing.T, tr *httpsync.Client, evs ...*dc.Event) []string {
	t.Helper()
	resp, err := tr.Push(ctx, &dc.PushRequest{Events: evs})
	require.NoError(t, err)
	var st []string
	for _, r := range resp.Results {
		st = append(st, r.Status)
	}
	return st
}

func pull(t *testing.T, tr *httpsync.Client, since, logSince int64) *dc.PullResponse {
	t.Helper()
	resp, err := tr.Pull(ctx, dc.PullQuery{Since: since, Limit: 100, LogSince: logSince})
	require.NoError(t, err)
	return resp
}

// logLine summarises an entry: action, device, entities, events, status.
func logLine(a *dc.AuditEntry) string {
	return fmt.Sprintf("%s %s %d/%d %s", a.Action, a.DeviceID, a.Entities, a.Events, a.Status)
}

func logLines(as []*dc.AuditEntry) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, logLine(a))
	}
	return out
}

func TestPushAndPullAreAudited(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a, login := e.transport(t, "app1")
		b, _ := e.transport(t, "app1")
		start := e.clock.Now()
		// Two people, one rejected event; then a conflict, a resent batch,
		// and a push refused as a whole.
		assert.Equal(t, []string{"accepted", "accepted", "rejected", "accepted"},
			push(t, a, create("e1", "p1"), create("e2", "p2"), update("e3", "nobody", 1), update("e4", "p1", 1)))
		// e5 and e6 edit p2's name on two devices, neither having seen the
		// other's edit: e6 meets a conflict.
		e5, e6 := update("e5", "p2", 1), update("e6", "p2", 1)
		e5.Device, e6.Device = "device-b", "device-a"
		assert.Equal(t, []string{"accepted"}, push(t, b, e5))
		assert.Equal(t, []string{"conflict"}, push(t, a, e6))
		assert.Equal(t, []string{"duplicate", "duplicate"}, push(t, a, create("e1", "p1"), create("e2", "p2")))
		_, err := a.Push(ctx, &dc.PushRequest{Events: []*dc.Event{}})
		assert.Equal(t, dc.EINVALID, dc.ErrorCode(err))
		page := pull(t, a, 0, 0)
		require.Len(t, page.Events, 5)

		log := e.syncLog(t, "app1")
		assert.Equal(t, []string{
			"push " + a.ClientID + " 2/3 ok", // e1, e2, e4: of p1 and p2
			"push " + b.ClientID + " 1/1 ok",
			"push " + a.ClientID + " 1/1 ok", // a conflict is stored
			"push " + a.ClientID + " 0/0 ok", // duplicates store nothing
			"push " + a.ClientID + " 0/0 error",
			"pull " + a.ClientID + " 2/5 ok",
		}, logLines(log))
		assert.Equal(t, "EINVALID: push has no events", log[4].Error)
		for i, x := range log {
			assert.Equal(t, int64(i+1), x.ID)
			assert.NotEmpty(t, x.GUID)
			assert.GreaterOrEqual(t, x.DurationMs, int64(0))
			ts, err := time.Parse(time.RFC3339Nano, x.Timestamp)
			require.NoError(t, err)
			assert.True(t, strings.HasSuffix(x.Timestamp, "Z"), "UTC: %s", x.Timestamp)
			assert.True(t, ts.After(start), "the server's clock: %s", x.Timestamp)
			if x.DeviceID == a.ClientID {
				assert.Equal(t, login.UserID, x.UserID)
			}
			if x.Status == dc.AuditOK {
				assert.Empty(t, x.Error)
			}
		}
		assert.Empty(t, log[0].EventGUID, "sync entries name no event")

		// Requests that fail authentication are not audited.
		bad := &httpsync.Client{BaseURL: e.http.URL, AppID: "app1", ClientID: "intruder"}
		bad.SetToken("not.a.jwt")
		_, err = bad.Pull(ctx, dc.PullQuery{Limit: 10})
		assert.Equal(t, dc.EUNAUTHORIZED, dc.ErrorCode(err))
		_, err = bad.Push(ctx, &dc.PushRequest{Events: []*dc.Event{create("x1", "px")}})
		assert.Equal(t, dc.EUNAUTHORIZED, dc.ErrorCode(err))
		assert.Len(t, e.syncLog(t, "app1"), len(log))
	})
}

func TestPullBringsTheSyncLog(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a, _ := e.transport(t, "app1")
		b, _ := e.transport(t, "app1")
		// Pulls that bring nothing are logged, but not sent to devices.
		first := pull(t, b, 0, 0)
		assert.Empty(t, first.SyncLog)
		assert.Zero(t, first.NextLogCursor)
		pull(t, a, 0, 0)
		push(t, a, create("e1", "p1"), create("e2", "p1x"))

		page := pull(t, b, 0, 0)
		assert.Equal(t, []string{"push " + a.ClientID + " 2/2 ok"}, logLines(page.SyncLog),
			"B receives A's push, not the pulls that brought nothing")
		assert.Equal(t, int64(3), page.NextLogCursor, "the last entry's id")
		assert.Len(t, page.Events, 2)

		// The pull's own entry was stored after its answer was built: B
		// receives it with its next pull, as it brought entities.
		next := pull(t, b, page.NextCursor, page.NextLogCursor)
		assert.Equal(t, []string{"pull " + b.ClientID + " 2/2 ok"}, logLines(next.SyncLog))
		assert.Equal(t, int64(4), next.NextLogCursor)
		assert.Empty(t, next.Events)
		again := pull(t, b, next.NextCursor, next.NextLogCursor)
		assert.Empty(t, again.SyncLog, "that pull brought nothing")
		assert.Equal(t, next.NextLogCursor, again.NextLogCursor, "no entry: the cursor stays")

		// A failed push is sent to everyone.
		_, err := a.Push(ctx, &dc.PushRequest{Events: []*dc.Event{}})
		require.Error(t, err)
		failed := pull(t, b, again.NextCursor, again.NextLogCursor)
		require.Len(t, failed.SyncLog, 1)
		assert.Equal(t, "push "+a.ClientID+" 0/0 error", logLine(failed.SyncLog[0]))
		assert.Equal(t, "EINVALID: push has no events", failed.SyncLog[0].Error)

		// Another app's log is its own.
		c, _ := e.transport(t, "app2")
		assert.Empty(t, pull(t, c, 0, 0).SyncLog)

		// logSince is a non-negative integer.
		h := syncHeaders(b.Token())
		for _, v := range []string{"-1", "x", "1.5"} {
			status, er, _ := e.raw(t, rawReq{"GET", wire.PathPull + "?logSince=" + v, nil, h})
			assert.Equal(t, 400, status, v)
			assert.Equal(t, dc.EINVALID, er.Code, v)
			assert.Contains(t, er.Message, "logSince", v)
		}
	})
}

func TestSyncLogPages(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		tr, _ := e.transport(t, "app1")
		const n = 230
		for i := range n {
			entities := i % 2 // every other entry affects an entity
			require.NoError(t, e.store.AppendSyncLog(ctx, "app1", &dc.AuditEntry{GUID: fmt.Sprint(i), Action: dc.AuditPush,
				DeviceID: "other", Entities: entities, Events: entities, Status: dc.AuditOK}))
		}
		var got []string
		var cursor int64
		var pages []int
		for {
			page := pull(t, tr, 0, cursor)
			if len(page.SyncLog) == 0 {
				assert.Equal(t, cursor, page.NextLogCursor)
				break
			}
			pages = append(pages, len(page.SyncLog))
			for _, x := range page.SyncLog {
				got = append(got, x.GUID)
			}
			// Entry i has id i+1 (entries carry no id over MessagePack).
			assert.Equal(t, page.SyncLog[len(page.SyncLog)-1].GUID, fmt.Sprint(page.NextLogCursor-1), "the last entry's id")
			assert.Greater(t, page.NextLogCursor, cursor)
			cursor = page.NextLogCursor
		}
		assert.Equal(t, []int{100, 15}, pages, "pages of at most 100 entries")
		require.Len(t, got, n/2)
		for i, g := range got {
			assert.Equal(t, fmt.Sprint(2*i+1), g, "every affecting entry once, in order")
		}
	})
}

func TestPlanCountsAndChangesNothing(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a, _ := e.transport(t, "app1")
		b, _ := e.transport(t, "app1")
		push(t, a, create("e1", "p1"), create("e2", "p2"), create("e3", "p3"))
		logBefore := e.syncLog(t, "app1")
		for since, want := range map[int64]int{0: 3, 2: 1, 3: 0, 50: 0} {
			plan, err := b.Plan(ctx, since)
			require.NoError(t, err)
			assert.Equal(t, &dc.PlanResponse{Pull: want, Cursor: since}, plan, "plan since %d", since)
		}
		assert.Equal(t, logBefore, e.syncLog(t, "app1"), "plans are not audited")
		plan, err := b.Plan(ctx, 0)
		require.NoError(t, err)
		page := pull(t, b, 0, 0)
		assert.Len(t, page.Events, plan.Pull, "the pull after a plan brings what it announced")
		assert.Equal(t, []string{"push " + a.ClientID + " 3/3 ok"}, logLines(page.SyncLog))

		h := syncHeaders(b.Token())
		for _, tc := range []struct {
			name   string
			req    rawReq
			status int
			code   string
		}{
			{"bad since", rawReq{"GET", wire.PathPlan + "?since=-2", nil, h}, 400, dc.EINVALID},
			{"no token", rawReq{"GET", wire.PlanPath(0), nil, with(h, "Authorization", "")}, 401, dc.EUNAUTHORIZED},
			{"no client id", rawReq{"GET", wire.PlanPath(0), nil, with(h, "X-Client-ID", "")}, 400, dc.EINVALID},
			{"other major", rawReq{"GET", wire.PlanPath(0), nil, with(h, "X-Sync-Version", "2.0.0")}, 426, dc.EVERSION},
			{"POST", rawReq{"POST", wire.PlanPath(0), nil, h}, 404, dc.ENOTFOUND},
		} {
			status, er, _ := e.raw(t, tc.req)
			assert.Equal(t, tc.status, status, tc.name)
			assert.Equal(t, tc.code, er.Code, tc.name)
		}
		n, err := e.store.CountAfter(ctx, "app1", 0)
		require.NoError(t, err)
		assert.Equal(t, 3, n)
	})
}

// report is a telemetry report with every field set.
func report() *dc.DeviceReport {
	return &dc.DeviceReport{LastSyncTime: "2026-11-25T08:00:00.123Z", Pending: 4, Failed: 1, Conflicts: 2,
		LastError: "ENETWORK: offline", Cursor: 17, Metrics: dc.SyncMetrics{SyncDuration: 120, EntitiesSynced: 7,
			BytesTransferred: 2048, ConflictsResolved: 1, ErrorsEncountered: 2, RetryAttempts: 3}}
}

func TestTelemetry(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		tr, login := e.transport(t, "app1")
		rep := report()
		before := e.clock.Now()
		require.NoError(t, tr.Report(ctx, rep))
		devs, err := e.store.Devices(ctx, "app1")
		require.NoError(t, err)
		require.Len(t, devs, 1)
		d := devs[0]
		assert.Equal(t, "app1", d.AppID)
		assert.Equal(t, tr.ClientID, d.DeviceID)
		assert.Equal(t, login.UserID, d.UserID)
		assert.Equal(t, *rep, d.Report)
		at, err := dc.ParseTime(d.ReportedAt)
		require.NoError(t, err)
		assert.True(t, at.After(before), "ReportedAt is the server's time")

		// A later report replaces it.
		rep2 := &dc.DeviceReport{LastSyncTime: "2026-11-25T09:00:00+01:00", Metrics: dc.SyncMetrics{SyncDuration: 80}}
		require.NoError(t, tr.Report(ctx, rep2))
		devs, err = e.store.Devices(ctx, "app1")
		require.NoError(t, err)
		require.Len(t, devs, 1)
		assert.Equal(t, *rep2, devs[0].Report)
		assert.Empty(t, e.syncLog(t, "app1"), "telemetry is not audited")

		// Bad reports are refused and store nothing.
		neg := report()
		neg.Metrics.RetryAttempts = -1
		err = tr.Report(ctx, neg)
		assert.Equal(t, dc.EINVALID, dc.ErrorCode(err))
		assert.Contains(t, dc.ErrorMessage(err), "retryAttempts")

		h := with(syncHeaders(tr.Token()), "X-Client-ID", "raw-device")
		long := `{"lastError":"` + strings.Repeat("é", 1001) + `"}`
		for _, tc := range []struct {
			name   string
			body   string
			hdr    map[string]string
			status int
			code   string
			msg    string
		}{
			{"negative count", `{"pending":-1}`, h, 400, dc.EINVALID, "pending"},
			{"negative metric", `{"metrics":{"bytesTransferred":-5}}`, h, 400, dc.EINVALID, "bytesTransferred"},
			{"bad time", `{"lastSyncTime":"yesterday"}`, h, 400, dc.EINVALID, "lastSyncTime"},
			{"unknown field", `{"pendng":1}`, h, 400, dc.EINVALID, "unknown field"},
			{"wrong type", `{"pending":"many"}`, h, 400, dc.EINVALID, "JSON"},
			{"long error", long, h, 400, dc.EINVALID, "lastError"},
			{"empty body", ``, h, 400, dc.EINVALID, "empty"},
			{"no token", `{"pending":1}`, with(h, "Authorization", ""), 401, dc.EUNAUTHORIZED, "Bearer"},
			{"no client id", `{"pending":1}`, with(h, "X-Client-ID", ""), 400, dc.EINVALID, "X-Client-ID"},
			{"GET", ``, h, 404, dc.ENOTFOUND, "no API endpoint"},
		} {
			method := "POST"
			if tc.name == "GET" {
				method = "GET"
			}
			status, er, _ := e.raw(t, rawReq{method, wire.PathTelemetry, []byte(tc.body), tc.hdr})
			assert.Equal(t, tc.status, status, tc.name)
			assert.Equal(t, tc.code, er.Code, tc.name)
			assert.Contains(t, er.Message, tc.msg, tc.name)
		}
		devs, err = e.store.Devices(ctx, "app1")
		require.NoError(t, err)
		require.Len(t, devs, 1, "no bad report stored")
		assert.Equal(t, *rep2, devs[0].Report)

		// A good raw report answers 204 without a body.
		status, _, body := e.raw(t, rawReq{"POST", wire.PathTelemetry, []byte(`{"pending":2,"lastSyncTime":""}`), h})
		assert.Equal(t, 204, status)
		assert.Empty(t, body)
		devs, err = e.store.Devices(ctx, "app1")
		require.NoError(t, err)
		require.Len(t, devs, 2)
		assert.Equal(t, "raw-device", devs[1].DeviceID)
		assert.Equal(t, 2, devs[1].Report.Pending)
	})
}

func TestLifecycleMetrics(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		tr, _ := e.transport(t, "app1")
		push(t, tr, create("e1", "p1"))
		pull(t, tr, 0, 0)
		_, err := tr.Push(ctx, &dc.PushRequest{Events: []*dc.Event{}})
		require.Error(t, err)
		require.NoError(t, tr.Report(ctx, report()))
		require.NoError(t, tr.Report(ctx, &dc.DeviceReport{}))
		status, _, body := e.raw(t, rawReq{"GET", "/metrics", nil, nil})
		require.Equal(t, 200, status)
		for _, want := range []string{
			`datacollect_sync_operations_total{op="push",status="ok"} 1`,
			`datacollect_sync_operations_total{op="push",status="error"} 1`,
			`datacollect_sync_operations_total{op="pull",status="ok"} 1`,
			`datacollect_sync_operation_duration_seconds_count{op="push"} 2`,
			`datacollect_sync_operation_duration_seconds_count{op="pull"} 1`,
			`datacollect_device_reports_total 2`,
			`datacollect_device_sync_duration_seconds_count 1`, // a report of no sync has no duration
			`datacollect_device_sync_duration_seconds_sum 0.12`,
			`datacollect_device_sync_retries_total 3`,
			`datacollect_device_sync_errors_total 2`,
			`datacollect_device_conflicts_resolved_total 1`,
			`datacollect_device_entities_synced_total 7`,
			`datacollect_device_bytes_transferred_total 2048`,
			`datacollect_sync_log_failures_total 0`,
		} {
			assert.Contains(t, string(body), want+"\n")
		}
	})
}

// faultyStore fails the sync log's appends, or pushes.
type faultyStore struct {
	dc.ServerStore
	failLog, failPush bool
}

func (f *faultyStore) AppendSyncLog(ctx context.Context, app string, entries ...*dc.AuditEntry) error {
	if f.failLog {
		return dc.Errorf(dc.ESTORE, "sync log unavailable")
	}
	return f.ServerStore.AppendSyncLog(ctx, app, entries...)
}

func (f *faultyStore) Push(ctx context.Context, app string, fn func(dc.PushTx) error) error {
	if f.failPush {
		return dc.Errorf(dc.ESTORE, "disk on fire")
	}
	return f.ServerStore.Push(ctx, app, fn)
}

// TestAuditFailuresDoNotFailRequests: a sync log that cannot be written is
// logged and counted; the pull succeeds. A successful push's entry is in
// the push's own transaction: it is stored with the events. A push that
// fails is audited with its error.
func TestAuditFailuresDoNotFailRequests(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		f := &faultyStore{ServerStore: e.store, failLog: true}
		newServerOver(e, f)
		tr, _ := e.transport(t, "app1")
		assert.Equal(t, []string{"accepted"}, push(t, tr, create("e1", "p1")))
		assert.Len(t, pull(t, tr, 0, 0).Events, 1)
		log := e.syncLog(t, "app1")
		require.Len(t, log, 1, "the pull's entry was lost, not the push's")
		assert.Equal(t, "push "+tr.ClientID+" 1/1 ok", logLine(log[0]))
		_, _, body := e.raw(t, rawReq{"GET", "/metrics", nil, nil})
		assert.Contains(t, string(body), "datacollect_sync_log_failures_total 1\n")

		f.failLog, f.failPush = false, true
		_, err := tr.Push(ctx, &dc.PushRequest{Events: []*dc.Event{create("e2", "p2")}})
		assert.Equal(t, dc.ESTORE, dc.ErrorCode(err))
		log = e.syncLog(t, "app1")
		require.Len(t, log, 2)
		assert.Equal(t, "push "+tr.ClientID+" 0/0 error", logLine(log[1]))
		assert.Equal(t, "ESTORE: disk on fire", log[1].Error)
	})
}
