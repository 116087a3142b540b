//go:build js && wasm

package idbstore_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	idbstore "github.com/datacollect/datacollect/store/idb"
	"github.com/datacollect/datacollect/store/storetest"
)

var ctx = context.Background()

// TestMain runs the tests (and benchmarks) as on a page whose Content
// Security Policy forbids compiling code ('unsafe-eval'): the store must
// not need to.
func TestMain(m *testing.M) {
	forbidEval()
	os.Exit(m.Run())
}

// forbidEval adds such a policy to the page.
func forbidEval() {
	doc := js.Global().Get("document")
	if !doc.Truthy() {
		fmt.Println("no document: the tests run without a Content Security Policy")
		return
	}
	meta := doc.Call("createElement", "meta")
	meta.Set("httpEquiv", "Content-Security-Policy")
	meta.Set("content", "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'")
	doc.Get("head").Call("appendChild", meta)
	defer func() {
		if recover() == nil {
			panic("the Content Security Policy does not forbid compiling code")
		}
	}()
	js.Global().Get("Function").New("return 1")
}

var dbSeq atomic.Int64

// dbName returns a database name unique to this test run.
func dbName(t testing.TB) string {
	return fmt.Sprintf("datacollect-test-%d-%d", time.Now().UnixNano(), dbSeq.Add(1))
}

// openNew opens a fresh database, deleted when the test ends.
func openNew(t testing.TB) (*idbstore.Store, string) {
	t.Helper()
	name := dbName(t)
	s, err := idbstore.Open(ctx, name)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = s.Close()
		require.NoError(t, idbstore.Delete(ctx, name))
	})
	return s, name
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dc.Store {
		s, _ := openNew(t)
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	s, name := openNew(t)
	ev := storetest.Event("e1", "p1", dc.Local, map[string]any{"a": "1"})
	rec := storetest.Record("p1", dc.Individual, map[string]any{"a": "1"})
	au := &dc.AuditEntry{GUID: "a1", Action: "create", EntityGUID: "p1"}
	require.NoError(t, s.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{ev}, Entities: []dc.EntityWrite{{Record: rec}},
		Audit: []*dc.AuditEntry{au}, Meta: map[string][]byte{"cursor": []byte("7")}}))
	require.NoError(t, s.Close())

	s2, err := idbstore.Open(ctx, name)
	require.NoError(t, err)
	defer s2.Close()
	evs, err := s2.Events(ctx, []string{"e1"})
	require.NoError(t, err)
	require.Contains(t, evs, "e1")
	assert.Equal(t, ev.LSeq, evs["e1"].LSeq)
	assert.Equal(t, ev, evs["e1"])
	recs, err := s2.Entities(ctx, []string{"p1"})
	require.NoError(t, err)
	assert.Equal(t, rec, recs["p1"])
	as, err := s2.Audit(ctx, dc.AuditQuery{})
	require.NoError(t, err)
	require.Len(t, as, 1)
	assert.Equal(t, au, as[0])
	v, ok, err := s2.Meta(ctx, "cursor")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, []byte("7"), v)

	// Insertion order continues after the stored events.
	ev2 := storetest.Event("e2", "p1", dc.Local, map[string]any{"a": "2"})
	require.NoError(t, s2.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{ev2}}))
	assert.Greater(t, ev2.LSeq, ev.LSeq)
}

func TestTwoHandles(t *testing.T) {
	a, name := openNew(t)
	b, err := idbstore.Open(ctx, name)
	require.NoError(t, err)
	defer b.Close()

	rec := storetest.Record("p1", dc.Individual, map[string]any{"v": 1.0})
	require.NoError(t, a.Commit(ctx, &dc.Batch{Entities: []dc.EntityWrite{{Record: rec}}}))
	recs, err := b.Entities(ctx, []string{"p1"})
	require.NoError(t, err)
	require.Contains(t, recs, "p1", "b sees a's commit")
	assert.Equal(t, int64(1), recs["p1"].Rev)

	// Both read revision 1; b commits first; a's commit conflicts.
	fromB := storetest.Record("p1", dc.Individual, map[string]any{"v": 2.0})
	require.NoError(t, b.Commit(ctx, &dc.Batch{Entities: []dc.EntityWrite{{Record: fromB, ExpectRev: 1}}}))
	fromA := storetest.Record("p1", dc.Individual, map[string]any{"v": 3.0})
	err = a.Commit(ctx, &dc.Batch{
		NewEvents: []*dc.Event{storetest.Event("e1", "p1", dc.Local, map[string]any{"v": 3.0})},
		Entities:  []dc.EntityWrite{{Record: fromA, ExpectRev: 1}},
	})
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err))
	n, err := a.CountEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	assert.Zero(t, n, "the conflicting batch wrote nothing")
	recs, err = a.Entities(ctx, []string{"p1"})
	require.NoError(t, err)
	assert.Equal(t, int64(2), recs["p1"].Rev)
	assert.Equal(t, 2.0, recs["p1"].Current.Data["v"])

	// Concurrent commits of the same new entity: exactly one wins.
	errs := make(chan error, 2)
	for _, s := range []*idbstore.Store{a, b} {
		go func() {
			errs <- s.Commit(ctx, &dc.Batch{Entities: []dc.EntityWrite{{Record: storetest.Record("p2", dc.Individual, nil)}}})
		}()
	}
	e1, e2 := <-errs, <-errs
	assert.ElementsMatch(t, []string{"", dc.ECONFLICT}, []string{dc.ErrorCode(e1), dc.ErrorCode(e2)})
}

func TestAddOfExistingEntityAbortsAll(t *testing.T) {
	s, _ := openNew(t)
	require.NoError(t, s.Commit(ctx, &dc.Batch{Entities: []dc.EntityWrite{{Record: storetest.Record("p1", dc.Individual, nil)}}}))
	newEv := storetest.Event("e1", "p2", dc.Local, map[string]any{"a": "1"})
	err := s.Commit(ctx, &dc.Batch{
		NewEvents: []*dc.Event{newEv},
		Entities: []dc.EntityWrite{
			{Record: storetest.Record("p2", dc.Individual, nil)},
			{Record: storetest.Record("p1", dc.Individual, map[string]any{"x": "y"})}, // exists: add fails
		},
		Audit: []*dc.AuditEntry{{GUID: "a1", Action: "x"}},
		Meta:  map[string][]byte{"k": []byte("v")},
	})
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err))
	assert.Zero(t, newEv.LSeq, "no LSeq is assigned by a failed commit")
	n, err := s.CountEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	assert.Zero(t, n)
	recs, err := s.Entities(ctx, []string{"p1", "p2"})
	require.NoError(t, err)
	assert.Len(t, recs, 1)
	assert.Nil(t, recs["p1"].Current.Data)
	as, err := s.Audit(ctx, dc.AuditQuery{})
	require.NoError(t, err)
	assert.Empty(t, as)
	_, ok, err := s.Meta(ctx, "k")
	require.NoError(t, err)
	assert.False(t, ok)
	// The audit key generator was rolled back or not: either way IDs grow.
	a := &dc.AuditEntry{GUID: "a2", Action: "x"}
	require.NoError(t, s.Commit(ctx, &dc.Batch{Audit: []*dc.AuditEntry{a}}))
	assert.Positive(t, a.ID)
}

func TestCommitAssignsKeys(t *testing.T) {
	s, _ := openNew(t)
	b := &dc.Batch{}
	for i := 0; i < 5; i++ {
		g := fmt.Sprintf("p%d", i)
		b.NewEvents = append(b.NewEvents, storetest.Event("e"+g, g, dc.Local, nil))
		b.Audit = append(b.Audit, &dc.AuditEntry{GUID: "a" + g, Action: "x", EntityGUID: g})
	}
	require.NoError(t, s.Commit(ctx, b))
	for i := 1; i < 5; i++ {
		assert.Equal(t, b.NewEvents[i-1].LSeq+1, b.NewEvents[i].LSeq)
		assert.Equal(t, b.Audit[i-1].ID+1, b.Audit[i].ID)
	}
	evs, err := s.ListEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	require.Len(t, evs, 5)
	for i, e := range evs {
		assert.Equal(t, b.NewEvents[i], e)
	}
	as, err := s.Audit(ctx, dc.AuditQuery{Limit: 2, EntityGUID: "p3"})
	require.NoError(t, err)
	require.Len(t, as, 1)
	assert.Equal(t, b.Audit[3], as[0])
}

// Nil and empty slices and maps come back as they were stored.
func TestNilAndEmpty(t *testing.T) {
	s, _ := openNew(t)
	r1 := storetest.Record("p1", dc.Group, nil)
	r2 := storetest.Record("p2", dc.Group, map[string]any{})
	r2.Current.MemberIDs = []string{}
	r2.Confirmed = r2.Current.Clone()
	e1 := storetest.Event("e1", "p1", dc.Local, nil)
	e2 := storetest.Event("e2", "p2", dc.Local, map[string]any{"l": []any{}, "m": map[string]any{}})
	e2.Failure = &dc.Failure{Code: "EINVALID", Message: "no"}
	require.NoError(t, s.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{e1, e2},
		Entities: []dc.EntityWrite{{Record: r1}, {Record: r2}}}))
	recs, err := s.Entities(ctx, []string{"p1", "p2"})
	require.NoError(t, err)
	assert.Equal(t, r1, recs["p1"])
	assert.Equal(t, r2, recs["p2"])
	evs, err := s.Events(ctx, []string{"e1", "e2"})
	require.NoError(t, err)
	assert.Equal(t, e1, evs["e1"])
	assert.Equal(t, e2, evs["e2"])
}

// The reference store's order of precedence between failed preconditions.
func TestPreconditionPrecedence(t *testing.T) {
	s, _ := openNew(t)
	require.NoError(t, s.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{storetest.Event("e1", "p1", dc.Local, nil)}}))
	rec := func(g string) *dc.EntityRecord { return storetest.Record(g, dc.Individual, nil) }
	// An existing new event beats an unknown updated one.
	err := s.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{storetest.Event("e1", "p1", dc.Local, nil)},
		UpdatedEvents: []*dc.Event{storetest.Event("nope", "p1", dc.Local, nil)}})
	assert.Equal(t, dc.ECONFLICT, dc.ErrorCode(err))
	// An unknown updated event beats an entity written twice.
	err = s.Commit(ctx, &dc.Batch{UpdatedEvents: []*dc.Event{storetest.Event("nope", "p1", dc.Local, nil)},
		Entities: []dc.EntityWrite{{Record: rec("p1")}, {Record: rec("p1")}}})
	assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err))
	// An entity written twice beats a stale revision.
	err = s.Commit(ctx, &dc.Batch{Entities: []dc.EntityWrite{{Record: rec("p1")}, {Record: rec("p1")}, {Record: rec("p2"), ExpectRev: 4}}})
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(err))
	// An event both new and updated in one batch is stored as updated.
	nw := storetest.Event("e2", "p1", dc.Local, nil)
	up := storetest.Event("e2", "p1", dc.Synced, nil)
	up.Seq = 5
	require.NoError(t, s.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{nw}, UpdatedEvents: []*dc.Event{up}}))
	evs, err := s.ListEvents(ctx, dc.EventQuery{Confirmed: true})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, nw.LSeq, evs[0].LSeq)
	assert.Equal(t, int64(5), evs[0].Seq)
	n, err := s.CountEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func TestStrings(t *testing.T) {
	s, _ := openNew(t)
	for _, g := range []string{"", "quote\"back\\slash", "ctl\x00\x01\n\t", "héllo 👋", "bad\xffutf8", "\u2028"} {
		e := storetest.Event("ev-"+g, g, dc.Local, map[string]any{"g": g})
		r := storetest.Record(g, dc.Individual, nil)
		r.Current.ExternalID = g
		require.NoError(t, s.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{e}, Entities: []dc.EntityWrite{{Record: r}}}), "%q", g)
		evs, err := s.Events(ctx, []string{"ev-" + g})
		require.NoError(t, err)
		require.Contains(t, evs, "ev-"+g, "%q", g)
		if g != "" {
			byEnt, err := s.ListEvents(ctx, dc.EventQuery{EntityGUID: g})
			require.NoError(t, err)
			require.Len(t, byEnt, 1, "%q", g)
			ext, err := s.ListEntities(ctx, dc.EntityQuery{ExternalID: g, Type: dc.Individual})
			require.NoError(t, err)
			require.Len(t, ext, 1, "%q", g)
		}
		recs, err := s.Entities(ctx, []string{g})
		require.NoError(t, err)
		require.Contains(t, recs, g, "%q", g)
	}
}

func TestDeleteClosesConnections(t *testing.T) {
	// Deleting a database closes the connections still open on it, which
	// then fail with ECLOSED.
	name := dbName(t)
	s, err := idbstore.Open(ctx, name)
	require.NoError(t, err)
	require.NoError(t, idbstore.Delete(ctx, name))
	_, err = s.Entities(ctx, []string{"p1"})
	assert.Equal(t, dc.ECLOSED, dc.ErrorCode(err))
	require.NoError(t, s.Close())
}

func TestCorruptRecord(t *testing.T) {
	s, name := openNew(t)
	require.NoError(t, s.Close())
	// Write records the store did not write, with plain JavaScript.
	req := js.Global().Get("indexedDB").Call("open", name)
	done := make(chan struct{}, 1)
	fn := js.FuncOf(func(js.Value, []js.Value) any { done <- struct{}{}; return nil })
	defer fn.Release()
	req.Set("onsuccess", fn)
	<-done
	db := req.Get("result")
	txn := db.Call("transaction", "entities", "readwrite")
	st := txn.Call("objectStore", "entities")
	rec := func(guid string, p any) js.Value {
		o := js.Global().Get("Object").New()
		o.Set("guid", guid)
		o.Set("rev", 1)
		if p != nil {
			o.Set("p", p)
		}
		return o
	}
	st.Call("put", rec("nop", nil))
	st.Call("put", rec("str", "not bytes"))
	st.Call("put", rec("bad", js.Global().Get("Uint8Array").New(3)))
	txn.Set("oncomplete", fn)
	<-done
	db.Call("close")

	s, err := idbstore.Open(ctx, name)
	require.NoError(t, err)
	defer s.Close()
	for _, g := range []string{"nop", "str", "bad"} {
		_, err = s.Entities(ctx, []string{g})
		assert.Equal(t, dc.ESTORE, dc.ErrorCode(err), g)
	}
	_, err = s.ListEntities(ctx, dc.EntityQuery{})
	assert.Equal(t, dc.ESTORE, dc.ErrorCode(err))
}

func TestDeleteBlockedHonoursContext(t *testing.T) {
	s, name := openNew(t)
	require.NoError(t, s.Close())
	// A connection that ignores versionchange blocks the deletion.
	req := js.Global().Get("indexedDB").Call("open", name)
	done := make(chan struct{}, 1)
	fn := js.FuncOf(func(js.Value, []js.Value) any { done <- struct{}{}; return nil })
	defer fn.Release()
	req.Set("onsuccess", fn)
	<-done
	db := req.Get("result")
	c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err := idbstore.Delete(c, name)
	assert.Equal(t, dc.ESTORE, dc.ErrorCode(err))
	db.Call("close")
	// The cleanup's Delete succeeds now.
}

// rawConn opens a connection to the database name with plain JavaScript;
// it ignores versionchange.
func rawConn(t testing.TB, name string) js.Value {
	t.Helper()
	req := js.Global().Get("indexedDB").Call("open", name)
	waitFor(t, req, "success")
	return req.Get("result")
}

// waitFor waits until target fires event (or error, which fails t) and
// returns the event. The caller must not have returned to the event loop
// since target was created.
func waitFor(t testing.TB, target js.Value, event string) js.Value {
	t.Helper()
	ch := make(chan js.Value, 1)
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any { ch <- args[0]; return nil })
	defer fn.Release()
	target.Set("on"+event, fn)
	target.Set("onerror", fn)
	ev := <-ch
	target.Set("on"+event, js.Null())
	target.Set("onerror", js.Null())
	require.Equal(t, event, ev.Get("type").String())
	return ev
}

func TestOpenBlockedHonoursContext(t *testing.T) {
	s, name := openNew(t)
	require.NoError(t, s.Close())
	// A connection that ignores versionchange blocks a deletion, and an open
	// waits behind the deletion.
	db := rawConn(t, name)
	del := js.Global().Get("indexedDB").Call("deleteDatabase", name)
	c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err := idbstore.Open(c, name)
	assert.Equal(t, dc.ESTORE, dc.ErrorCode(err))

	// Unblocked, the deletion proceeds, then the open given up on: it
	// creates the database with its schema, and its connection closes.
	db.Call("close")
	waitFor(t, del, "success")
	c, cancel = context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err = idbstore.Open(c, name)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{storetest.Event("e1", "p1", dc.Local, nil)}}))
	n, err := s.CountEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestFailedUpgradeWritesNothing(t *testing.T) {
	name := dbName(t)
	_, err := idbstore.OpenFailingUpgrade(ctx, name)
	assert.Equal(t, dc.ESTORE, dc.ErrorCode(err))
	assert.ErrorContains(t, err, "injected failure")
	// The upgrade was rolled back: the database is at version 0, without
	// object stores.
	req := js.Global().Get("indexedDB").Call("open", name)
	events := make(chan js.Value, 3)
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any { events <- args[0]; return nil })
	defer fn.Release()
	for _, h := range []string{"onupgradeneeded", "onsuccess", "onerror"} {
		req.Set(h, fn)
	}
	ev := <-events
	if assert.Equal(t, "upgradeneeded", ev.Get("type").String()) {
		assert.Equal(t, 0, ev.Get("oldVersion").Int())
		assert.Zero(t, req.Get("result").Get("objectStoreNames").Get("length").Int())
		ev = <-events
	}
	require.Equal(t, "success", ev.Get("type").String())
	req.Get("result").Call("close")
	require.NoError(t, idbstore.Delete(ctx, name))
}

// TestUpgradeFromVersion1 opens a database of the first schema, with a
// failed event written as that release wrote it, and checks that the
// upgrade indexes it as failed without losing anything.
func TestUpgradeFromVersion1(t *testing.T) {
	name := dbName(t)
	t.Cleanup(func() { _ = idbstore.Delete(ctx, name) })
	v1, err := idbstore.OpenV1(ctx, name)
	require.NoError(t, err)
	bad := storetest.Event("e1", "p1", dc.Local, map[string]any{"n": 1.0})
	bad.Failure = &dc.Failure{Code: dc.EINVALID, Message: "rejected"}
	good := storetest.Event("e2", "p2", dc.Local, nil)
	require.NoError(t, v1.Commit(ctx, &dc.Batch{NewEvents: []*dc.Event{bad, good}}))
	require.NoError(t, idbstore.StripFailedField(v1))
	require.NoError(t, v1.Close())

	s, err := idbstore.Open(ctx, name)
	require.NoError(t, err)
	defer s.Close()
	failed, err := s.ListEvents(ctx, dc.EventQuery{Failed: true})
	require.NoError(t, err)
	require.Len(t, failed, 1)
	assert.Equal(t, "e1", failed[0].GUID)
	assert.Equal(t, "rejected", failed[0].Failure.Message)
	assert.Equal(t, map[string]any{"n": 1.0}, failed[0].Data)
	n, err := s.CountEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, ok, err := s.Meta(ctx, "idb.migrate.failed")
	require.NoError(t, err)
	assert.False(t, ok, "the migration marker is cleared")
}
