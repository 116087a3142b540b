package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
)

// SyncEntry returns a test sync-log entry of a device's operation.
func SyncEntry(guid, action, device string, entities int, status string) *dc.AuditEntry {
	a := &dc.AuditEntry{
		GUID: guid, Timestamp: "2026-11-25T10:00:00.000000001Z", UserID: "u-" + device, Action: action,
		DeviceID: device, Entities: entities, Events: entities * 2, DurationMs: 12, Status: status,
	}
	if status == dc.AuditError {
		a.Error = "ESTORE: database unavailable"
	}
	return a
}

// appendLog appends entries that must be stored.
func appendLog(t *testing.T, s dc.ServerStore, app string, entries ...*dc.AuditEntry) {
	t.Helper()
	for _, a := range entries {
		require.NoError(t, s.AppendSyncLog(ctx, app, a))
	}
}

// syncLog returns the GUIDs of the entries that q selects, and checks
// that they come in increasing ID order.
func syncLog(t *testing.T, s dc.ServerStore, app string, q dc.SyncLogQuery) string {
	t.Helper()
	got, err := s.SyncLog(ctx, app, q)
	require.NoError(t, err)
	for i := 1; i < len(got); i++ {
		assert.Less(t, got[i-1].ID, got[i].ID, "entries in ID order")
	}
	return auditGUIDs(got)
}

func testSyncLog(t *testing.T, s dc.ServerStore) {
	entries := []*dc.AuditEntry{
		SyncEntry("l1", dc.AuditPush, "d1", 3, dc.AuditOK),
		SyncEntry("l2", dc.AuditPull, "d2", 0, dc.AuditOK),
		SyncEntry("l3", dc.AuditPull, "d1", 0, dc.AuditError),
		SyncEntry("l4", dc.AuditPull, "d2", 5, dc.AuditOK),
		SyncEntry("l5", dc.AuditPush, "d1", 0, dc.AuditOK),
		SyncEntry("l6", dc.AuditPush, "d2", 1, dc.AuditOK),
	}
	appendLog(t, s, "app1", entries...)
	for i, a := range entries {
		assert.Equal(t, int64(i+1), a.ID, "AppendSyncLog assigns the app's next id")
	}
	// Another app numbers its own entries.
	other := SyncEntry("o1", dc.AuditPush, "d1", 1, dc.AuditOK)
	appendLog(t, s, "app2", other)
	assert.Equal(t, int64(1), other.ID)

	all, err := s.SyncLog(ctx, "app1", dc.SyncLogQuery{Limit: 100})
	require.NoError(t, err)
	assert.Equal(t, entries, all, "entries round-trip with every field")

	cases := []struct {
		q    dc.SyncLogQuery
		want string
	}{
		{dc.SyncLogQuery{Limit: 2}, "l1,l2"},
		{dc.SyncLogQuery{After: 2, Limit: 2}, "l3,l4"},
		{dc.SyncLogQuery{After: 6, Limit: 2}, ""},
		{dc.SyncLogQuery{After: 99, Limit: 2}, ""},
		{dc.SyncLogQuery{Limit: 100, Affecting: true}, "l1,l3,l4,l6"},
		{dc.SyncLogQuery{After: 1, Limit: 2, Affecting: true}, "l3,l4"},
		{dc.SyncLogQuery{After: 4, Limit: 100, Affecting: true}, "l6"},
		{dc.SyncLogQuery{Limit: 100, DeviceID: "d1"}, "l1,l3,l5"},
		{dc.SyncLogQuery{After: 1, Limit: 1, DeviceID: "d1"}, "l3"},
		{dc.SyncLogQuery{Limit: 100, DeviceID: "d2", Affecting: true}, "l4,l6"},
		{dc.SyncLogQuery{Limit: 100, DeviceID: "d9"}, ""},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, syncLog(t, s, "app1", c.q), "SyncLog(%+v)", c.q)
	}
	assert.Equal(t, "o1", syncLog(t, s, "app2", dc.SyncLogQuery{Limit: 100}), "apps are isolated")
	assert.Empty(t, syncLog(t, s, "app3", dc.SyncLogQuery{Limit: 100}))

	_, err = s.SyncLog(ctx, "app1", dc.SyncLogQuery{})
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(err), "a limit below 1: %v", err)
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(s.AppendSyncLog(ctx, "", SyncEntry("x", dc.AuditPush, "d1", 0, dc.AuditOK))))
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(s.AppendSyncLog(ctx, "app1", nil)))
	next := SyncEntry("l7", dc.AuditPull, "d1", 0, dc.AuditOK)
	appendLog(t, s, "app1", next)
	assert.Equal(t, int64(7), next.ID, "refused appends consumed no id")
}

// Sizes of the concurrent sync-log test.
const (
	loggers    = 8
	loggedEach = 25
)

// concurrentSyncLog has goroutines append to one app's sync log through a
// and b in turn while a reader follows it by id: every entry gets a
// distinct id of 1..N, and the reader sees them all in order, without a
// gap (an entry that commits late is never skipped).
func concurrentSyncLog(t *testing.T, a, b dc.ServerStore) {
	const n = loggers * loggedEach
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var reader sync.WaitGroup
	reader.Go(func() {
		var last int64
		for last < n {
			got, err := b.SyncLog(ctx, "app1", dc.SyncLogQuery{After: last, Limit: pullPageLimit})
			if err != nil {
				t.Errorf("sync log after %d: %v", last, err)
				return
			}
			for _, e := range got {
				if e.ID != last+1 {
					t.Errorf("a reader at id %d received id %d: id %d was skipped or repeated", last, e.ID, last+1)
					return
				}
				last = e.ID
			}
			if len(got) == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	})
	var wg sync.WaitGroup
	for g := range loggers {
		s := a
		if g%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for i := range loggedEach {
				e := SyncEntry(fmt.Sprintf("l-%d-%d", g, i), dc.AuditPull, fmt.Sprintf("d%d", g), i%2, dc.AuditOK)
				if err := s.AppendSyncLog(ctx, "app1", e); err != nil {
					t.Errorf("append %s: %v", e.GUID, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		cancel()
	}
	reader.Wait()
	all, err := a.SyncLog(ctx, "app1", dc.SyncLogQuery{Limit: 2 * n})
	require.NoError(t, err)
	require.Len(t, all, n)
	seen := map[string]bool{}
	for i, e := range all {
		assert.Equal(t, int64(i+1), e.ID)
		assert.False(t, seen[e.GUID], "entry %s once", e.GUID)
		seen[e.GUID] = true
	}
}

func testDevices(t *testing.T, s dc.ServerStore) {
	rep := dc.DeviceReport{LastSyncTime: "2026-11-25T10:00:00Z", Pending: 3, Failed: 1, Conflicts: 2,
		LastError: "ENETWORK: offline", Cursor: 42, Metrics: dc.SyncMetrics{SyncDuration: 120,
			EntitiesSynced: 7, BytesTransferred: 2048, ConflictsResolved: 1, ErrorsEncountered: 2, RetryAttempts: 3}}
	// Device IDs are ordered by their bytes: "B" before "a".
	devs := []*dc.Device{
		{AppID: "app1", DeviceID: "a-tablet", UserID: "u1", ReportedAt: "2026-11-25T10:00:01Z", Report: rep},
		{AppID: "app1", DeviceID: "B-phone", UserID: "u2", ReportedAt: "2026-11-25T10:00:02Z"},
		{AppID: "app2", DeviceID: "a-tablet", UserID: "u9", ReportedAt: "2026-11-25T10:00:03Z"},
	}
	for _, d := range devs {
		require.NoError(t, s.PutDevice(ctx, d))
	}
	got, err := s.Devices(ctx, "app1")
	require.NoError(t, err)
	assert.Equal(t, []*dc.Device{devs[1], devs[0]}, got, "devices round-trip, by device ID")

	// PutDevice replaces the device's last report.
	again := &dc.Device{AppID: "app1", DeviceID: "a-tablet", UserID: "u3", ReportedAt: "2026-11-25T11:00:00Z",
		Report: dc.DeviceReport{Pending: 1}}
	require.NoError(t, s.PutDevice(ctx, again))
	got, err = s.Devices(ctx, "app1")
	require.NoError(t, err)
	assert.Equal(t, []*dc.Device{devs[1], again}, got)

	got, err = s.Devices(ctx, "app2")
	require.NoError(t, err)
	assert.Equal(t, []*dc.Device{devs[2]}, got, "apps are isolated")
	got, err = s.Devices(ctx, "none")
	require.NoError(t, err)
	assert.Empty(t, got)

	for _, bad := range []*dc.Device{nil, {DeviceID: "d"}, {AppID: "app1"}} {
		assert.Equal(t, dc.EINVALID, dc.ErrorCode(s.PutDevice(ctx, bad)), "%+v", bad)
	}
}

// testSyncLogInPush: a push stores its own sync-log entry in its
// transaction: numbered after the entries before it, and gone with the push
// when the push fails.
func testSyncLogInPush(t *testing.T, s dc.ServerStore) {
	appendLog(t, s, "app1", SyncEntry("l1", dc.AuditPull, "d1", 0, dc.AuditOK), SyncEntry("l2", dc.AuditPull, "d2", 0, dc.AuditOK))
	a := SyncEntry("p1", dc.AuditPush, "d1", 1, dc.AuditOK)
	require.NoError(t, s.Push(ctx, "app1", func(tx dc.PushTx) error {
		if err := tx.Append(&dc.Event{GUID: "e1", EntityGUID: "x", Type: "create-individual", Timestamp: "2026-11-25T10:00:00.000Z", SyncLevel: dc.Synced}); err != nil {
			return err
		}
		return tx.AppendSyncLog(a)
	}))
	assert.Equal(t, int64(3), a.ID)
	failed := SyncEntry("p2", dc.AuditPush, "d1", 1, dc.AuditOK)
	err := s.Push(ctx, "app1", func(tx dc.PushTx) error {
		if err := tx.AppendSyncLog(failed); err != nil {
			return err
		}
		return dc.Errorf(dc.EINVALID, "changed my mind")
	})
	require.Error(t, err)
	appendLog(t, s, "app1", SyncEntry("l3", dc.AuditPull, "d2", 0, dc.AuditOK))
	assert.Equal(t, "l1,l2,p1,l3", syncLog(t, s, "app1", dc.SyncLogQuery{Limit: 10}), "the failed push left no entry and no gap")
}
