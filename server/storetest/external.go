package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
)

// The external sync part of the contract (datacollect.ExternalStore). A
// store that does not implement it skips these tests.

var extNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func externalStore(t *testing.T, s dc.ServerStore) dc.ExternalStore {
	t.Helper()
	es, ok := s.(dc.ExternalStore)
	if !ok {
		t.Skip("the store does not implement datacollect.ExternalStore")
	}
	return es
}

func outboxGUIDs(t *testing.T, es dc.ExternalStore, app, status string) []string {
	t.Helper()
	items, err := es.OutboxItems(ctx, app, status, 1000)
	require.NoError(t, err)
	out := []string{}
	for _, it := range items {
		out = append(out, it.EntityGUID)
	}
	return out
}

func testExternalConfig(t *testing.T, s dc.ServerStore) {
	es := externalStore(t, s)
	_, err := es.ExternalConfig(ctx, "app1")
	assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err))
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(es.PutExternalConfig(ctx, &dc.ExternalConfig{AppID: "app1"})))
	c := &dc.ExternalConfig{AppID: "app1", Adapter: "openspp", Config: []byte(`{"secret":"s"}`), Enabled: true,
		Interval: 90 * time.Second, UpdatedAt: extNow}
	require.NoError(t, es.PutExternalConfig(ctx, c))
	require.NoError(t, es.PutExternalConfig(ctx, &dc.ExternalConfig{AppID: "app2", Adapter: "webhook", Config: []byte(`{}`), UpdatedAt: extNow}))
	got, err := es.ExternalConfig(ctx, "app1")
	require.NoError(t, err)
	assert.Equal(t, c, got)
	c.Enabled, c.Config = false, []byte(`{"secret":"t"}`)
	require.NoError(t, es.PutExternalConfig(ctx, c))
	all, err := es.ExternalConfigs(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, c, all[0], "replaced")
	assert.Equal(t, "app2", all[1].AppID)
	assert.False(t, all[1].Enabled)
}

func testExternalState(t *testing.T, s dc.ServerStore) {
	es := externalStore(t, s)
	st, err := es.ExternalState(ctx, "app1")
	require.NoError(t, err)
	assert.Equal(t, &dc.ExternalState{}, st)
	require.NoError(t, es.SetExternalPullCursor(ctx, "app1", "2024-01-02 03:04:05|7"))
	require.NoError(t, es.SetExternalLastRun(ctx, "app1", []byte(`{"pushed":3}`)))
	st, err = es.ExternalState(ctx, "app1")
	require.NoError(t, err)
	assert.Equal(t, "2024-01-02 03:04:05|7", st.PullCursor)
	assert.JSONEq(t, `{"pushed":3}`, string(st.LastRun))
	other, err := es.ExternalState(ctx, "app2")
	require.NoError(t, err)
	assert.Empty(t, other.PullCursor, "apps are isolated")
}

func testExternalLease(t *testing.T, s dc.ServerStore) {
	es := externalStore(t, s)
	ok, err := es.AcquireExternalLease(ctx, "app1", "a", extNow, time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = es.AcquireExternalLease(ctx, "app1", "b", extNow.Add(30*time.Second), time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "held by a")
	ok, err = es.AcquireExternalLease(ctx, "app2", "b", extNow, time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "another app's lease is free")
	ok, err = es.AcquireExternalLease(ctx, "app1", "a", extNow.Add(50*time.Second), time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "the owner extends it")
	ok, err = es.AcquireExternalLease(ctx, "app1", "b", extNow.Add(100*time.Second), time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "extended to 110s")
	st, err := es.ExternalState(ctx, "app1")
	require.NoError(t, err)
	assert.Equal(t, "a", st.LeaseOwner)
	assert.Equal(t, extNow.Add(110*time.Second), st.LeaseUntil)
	ok, err = es.AcquireExternalLease(ctx, "app1", "b", extNow.Add(111*time.Second), time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "an expired lease is taken over")
	require.NoError(t, es.ReleaseExternalLease(ctx, "app1", "a"), "not the owner: nothing")
	ok, err = es.AcquireExternalLease(ctx, "app1", "a", extNow.Add(112*time.Second), time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, es.ReleaseExternalLease(ctx, "app1", "b"))
	ok, err = es.AcquireExternalLease(ctx, "app1", "a", extNow.Add(112*time.Second), time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "released")
}

// concurrentLease: of many concurrent takers (on one or two stores of one
// database) exactly one gets the lease.
func concurrentLease(t *testing.T, a, b dc.ServerStore) {
	ea, eb := externalStore(t, a), externalStore(t, b)
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		es := ea
		if i%2 == 1 {
			es = eb
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := es.AcquireExternalLease(ctx, "app1", string(rune('a'+i)), extNow, time.Minute)
			assert.NoError(t, err)
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), won.Load())
}

func testOutbox(t *testing.T, s dc.ServerStore) {
	es := externalStore(t, s)
	// Events: p1 (with an audit entry also touching p2), g1 (a group),
	// and one skipped event on p3.
	e1, e2, e3 := Event("e1", "p1", map[string]any{"name": "A"}), Event("e2", "g1", map[string]any{"name": "G"}), Event("e3", "p3", nil)
	e3.UserID = "external:test"
	push(t, s, "app1", func(tx dc.PushTx) error {
		for _, ev := range []*dc.Event{e1, e2, e3} {
			if err := tx.Append(ev); err != nil {
				return err
			}
			en := Entity(ev.EntityGUID, ev.Data)
			if ev.EntityGUID == "g1" {
				en.Type = dc.Group
			}
			if err := tx.PutEntity(en); err != nil {
				return err
			}
			if err := tx.AppendAudit(ev.Seq, Audit("a-"+ev.GUID, ev)); err != nil {
				return err
			}
		}
		a := Audit("a-e1-p2", e1)
		a.EntityGUID = "p2"
		return tx.AppendAudit(e1.Seq, a)
	})
	push(t, s, "app2", appendAll(Event("x1", "q1", map[string]any{"name": "Q"})))
	push(t, s, "app2", func(tx dc.PushTx) error {
		en := Entity("q2", nil)
		en.ExternalID = "77"
		return tx.PutEntity(en)
	})
	got, err := es.EntityByExternalID(ctx, "app2", "77")
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, "q2", got.GUID)
	got, err = es.EntityByExternalID(ctx, "app1", "77")
	require.NoError(t, err)
	assert.Nil(t, got)
	skip := func(ev *dc.Event) bool { return ev.UserID == "external:test" }
	n, more, err := es.ScanOutbox(ctx, "app1", 2, extNow, skip)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.True(t, more)
	n, more, err = es.ScanOutbox(ctx, "app1", 2, extNow, skip)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.False(t, more)
	n, _, err = es.ScanOutbox(ctx, "app1", 2, extNow, skip)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "the cursor moved past everything")
	st, err := es.ExternalState(ctx, "app1")
	require.NoError(t, err)
	assert.Equal(t, e3.Seq, st.OutboxCursor)
	assert.Equal(t, []string{"g1", "p1", "p2"}, outboxGUIDs(t, es, "app1", ""))
	assert.Empty(t, outboxGUIDs(t, es, "app2", ""), "apps are isolated")

	// Due: individuals first, then groups; not before their time.
	due, err := es.DueOutbox(ctx, "app1", extNow, 10)
	require.NoError(t, err)
	require.Len(t, due, 3)
	assert.Equal(t, []string{"p1", "p2", "g1"}, []string{due[0].EntityGUID, due[1].EntityGUID, due[2].EntityGUID})
	assert.Equal(t, dc.OutboxPending, due[0].Status)
	due, err = es.DueOutbox(ctx, "app1", extNow.Add(-time.Second), 10)
	require.NoError(t, err)
	assert.Empty(t, due)
	due, err = es.DueOutbox(ctx, "app1", extNow, 1)
	require.NoError(t, err)
	require.Len(t, due, 1)
	p1 := due[0]

	// Ack of p1; p2 fails retryably, g1 for good.
	require.NoError(t, es.AckOutbox(ctx, "app1", "p1", p1.Gen))
	later := extNow.Add(30 * time.Second)
	require.NoError(t, es.FailOutbox(ctx, "app1", "p2", 1, dc.OutboxFailure{Status: dc.OutboxPending, NextAttempt: later,
		Code: "ENETWORK", Message: "timeout", Now: extNow}))
	require.NoError(t, es.FailOutbox(ctx, "app1", "g1", 1, dc.OutboxFailure{Status: dc.OutboxFailed, NextAttempt: later,
		Code: "EVALIDATION", Message: "bad", Now: extNow}))
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(es.FailOutbox(ctx, "app1", "g1", 1, dc.OutboxFailure{Status: "odd"})))
	due, err = es.DueOutbox(ctx, "app1", extNow, 10)
	require.NoError(t, err)
	assert.Empty(t, due)
	due, err = es.DueOutbox(ctx, "app1", later, 10)
	require.NoError(t, err)
	require.Len(t, due, 1, "the failed row is never due")
	assert.Equal(t, "p2", due[0].EntityGUID)
	assert.Equal(t, 1, due[0].Attempts)
	assert.Equal(t, "ENETWORK", due[0].LastCode)
	assert.Equal(t, later, due[0].NextAttempt)
	pending, failed, err := es.OutboxCounts(ctx, "app1")
	require.NoError(t, err)
	assert.Equal(t, [2]int{1, 1}, [2]int{pending, failed})
	failedRows, err := es.OutboxItems(ctx, "app1", dc.OutboxFailed, 10)
	require.NoError(t, err)
	require.Len(t, failedRows, 1)
	assert.Equal(t, "g1", failedRows[0].EntityGUID)
	assert.Equal(t, "EVALIDATION", failedRows[0].LastCode)
	assert.Equal(t, "bad", failedRows[0].LastMessage)

	// Retry makes failed rows due now.
	n, err = es.RetryOutbox(ctx, "app1", later, "nobody")
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = es.RetryOutbox(ctx, "app1", later)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	due, err = es.DueOutbox(ctx, "app1", later, 10)
	require.NoError(t, err)
	assert.Len(t, due, 2)

	// A change re-enqueues: a new generation, due now, attempts reset; an
	// ack of the old generation keeps the row, a failure of it leaves it
	// pending.
	require.NoError(t, es.FailOutbox(ctx, "app1", "g1", 1, dc.OutboxFailure{Status: dc.OutboxFailed, NextAttempt: later,
		Code: "EVALIDATION", Message: "bad", Now: extNow}))
	push(t, s, "app1", appendAll(func() *dc.Event {
		e := Event("e4", "g1", map[string]any{"name": "H"})
		e.Type = "update-group"
		return e
	}()))
	_, _, err = es.ScanOutbox(ctx, "app1", 10, later, skip)
	require.NoError(t, err)
	items, err := es.OutboxItems(ctx, "app1", "", 10)
	require.NoError(t, err)
	require.Len(t, items, 2)
	g1 := items[0]
	assert.Equal(t, "g1", g1.EntityGUID)
	assert.Equal(t, dc.OutboxPending, g1.Status)
	assert.Equal(t, int64(2), g1.Gen)
	assert.Zero(t, g1.Attempts)
	require.NoError(t, es.FailOutbox(ctx, "app1", "g1", 1, dc.OutboxFailure{Status: dc.OutboxFailed, NextAttempt: later.Add(time.Hour),
		Code: "EVALIDATION", Message: "stale", Now: later}))
	require.NoError(t, es.AckOutbox(ctx, "app1", "g1", 1))
	due, err = es.DueOutbox(ctx, "app1", later, 10)
	require.NoError(t, err)
	require.Len(t, due, 2, "the stale ack and failure leave the new generation due")
	for _, it := range due {
		require.NoError(t, es.AckOutbox(ctx, "app1", it.EntityGUID, it.Gen))
	}
	assert.Empty(t, outboxGUIDs(t, es, "app1", ""))
}
