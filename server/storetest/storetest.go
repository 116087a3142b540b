// Package storetest is the conformance suite of the sync server's store
// contract (datacollect.ServerStore). Every implementation runs it: SQLite
// and PostgreSQL in server/sqlstore.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
)

// Run runs the whole conformance suite against stores made by open, which
// returns a fresh, empty store for one test. The suite closes it.
func Run(t *testing.T, open func(t *testing.T) dc.ServerStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s dc.ServerStore)
	}{
		{"AppendAssignsSeqInOrder", testAppendSeq},
		{"PushTxSeesItsOwnWrites", testPushTxReads},
		{"AppendExistingGUID", testAppendExisting},
		{"ManyGUIDs", testManyGUIDs},
		{"FailedPushWritesNothing", testRollback},
		{"PullPages", testPullPages},
		{"TenancyIsolation", testTenancy},
		{"EntityRoundTrip", testEntityRoundTrip},
		{"Users", testUsers},
		{"Secret", testSecret},
		{"SyncLog", testSyncLog},
		{"SyncLogInPush", testSyncLogInPush},
		{"ConcurrentSyncLog", func(t *testing.T, s dc.ServerStore) { concurrentSyncLog(t, s, s) }},
		{"Devices", testDevices},
		{"ConcurrentPushes", func(t *testing.T, s dc.ServerStore) { concurrentPushes(t, s, s) }},
		{"LateCommitIsNeverSkipped", func(t *testing.T, s dc.ServerStore) { lateCommit(t, s, s, false) }},
		{"LateCommitRolledBack", func(t *testing.T, s dc.ServerStore) { lateCommit(t, s, s, true) }},
		{"RefreshRotation", testRefreshRotation},
		{"RevokeFamily", testRevokeFamily},
		{"RevokeToken", testRevokeToken},
		{"ConcurrentRefresh", func(t *testing.T, s dc.ServerStore) { concurrentRefresh(t, s, s) }},
		{"ExternalConfig", testExternalConfig},
		{"ExternalState", testExternalState},
		{"ExternalLease", testExternalLease},
		{"ConcurrentExternalLease", func(t *testing.T, s dc.ServerStore) { concurrentLease(t, s, s) }},
		{"Outbox", testOutbox},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
}

// RunShared runs the tests of two stores on one database, as two server
// processes have: open returns two stores on the same fresh, empty
// database. The suite closes them.
func RunShared(t *testing.T, open func(t *testing.T) (a, b dc.ServerStore)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b dc.ServerStore)
	}{
		{"Secret", testSharedSecret},
		{"ConcurrentPushes", concurrentPushes},
		{"ConcurrentSyncLog", concurrentSyncLog},
		{"ConcurrentRefresh", concurrentRefresh},
		{"ConcurrentExternalLease", concurrentLease},
		{"LateCommitIsNeverSkipped", func(t *testing.T, a, b dc.ServerStore) { lateCommit(t, a, b, false) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t)
			defer a.Close()
			defer b.Close()
			tc.fn(t, a, b)
		})
	}
}

var ctx = context.Background()

// Event returns a test event.
func Event(guid, entity string, data map[string]any) *dc.Event {
	return &dc.Event{
		GUID: guid, EntityGUID: entity, Type: "create-individual", Data: data,
		Timestamp: "2026-11-25T10:00:00.000Z", UserID: "u1", SyncLevel: dc.Synced,
	}
}

// Entity returns a test entity.
func Entity(guid string, data map[string]any) *dc.Entity {
	return &dc.Entity{
		GUID: guid, Type: dc.Individual, Version: 1, Data: data,
		LastUpdated: "2026-11-25T10:00:00.000Z", SyncLevel: dc.Synced,
	}
}

// Audit returns a test audit entry of the event ev.
func Audit(guid string, ev *dc.Event) *dc.AuditEntry {
	return &dc.AuditEntry{
		GUID: guid, Timestamp: ev.Timestamp, UserID: ev.UserID, Action: ev.Type,
		EventGUID: ev.GUID, EntityGUID: ev.EntityGUID,
		Changes: []dc.FieldChange{{Field: "name", New: guid}},
	}
}

// push runs one Push of app that must succeed.
func push(t *testing.T, s dc.ServerStore, app string, fn func(tx dc.PushTx) error) {
	t.Helper()
	require.NoError(t, s.Push(ctx, app, fn))
}

// appendAll appends evs, with an audit entry each, and puts their entities.
func appendAll(evs ...*dc.Event) func(tx dc.PushTx) error {
	return func(tx dc.PushTx) error {
		for _, ev := range evs {
			if err := tx.Append(ev); err != nil {
				return err
			}
			if err := tx.PutEntity(Entity(ev.EntityGUID, ev.Data)); err != nil {
				return err
			}
			if err := tx.AppendAudit(ev.Seq, Audit("a-"+ev.GUID, ev)); err != nil {
				return err
			}
		}
		return nil
	}
}

// pullAll returns every event of app and their audit entries.
func pullAll(t *testing.T, s dc.ServerStore, app string) ([]*dc.Event, []*dc.AuditEntry) {
	t.Helper()
	evs, audit, more, err := s.Pull(ctx, app, 0, 100000)
	require.NoError(t, err)
	require.False(t, more)
	return evs, audit
}

func guids(evs []*dc.Event) string {
	g := make([]string, len(evs))
	for i, e := range evs {
		g[i] = fmt.Sprintf("%s@%d", e.GUID, e.Seq)
	}
	return strings.Join(g, ",")
}

func auditGUIDs(as []*dc.AuditEntry) string {
	g := make([]string, len(as))
	for i, a := range as {
		g[i] = a.GUID
	}
	return strings.Join(g, ",")
}

func testAppendSeq(t *testing.T, s dc.ServerStore) {
	e1 := Event("e1", "p1", map[string]any{"name": "Ana", "age": 31.0})
	e2 := Event("e2", "p2", map[string]any{"name": "Bo", "tags": []any{"x", 2.0}, "home": map[string]any{"city": "Lyon"}})
	e2.BaseVersion = 3
	e2.Failure = &dc.Failure{Code: "ECONFLICT", Message: "kept"}
	e3 := Event("e3", "p1", nil)
	push(t, s, "app1", func(tx dc.PushTx) error {
		for _, e := range []*dc.Event{e1, e2} {
			if err := tx.Append(e); err != nil {
				return err
			}
		}
		return nil
	})
	assert.Equal(t, int64(1), e1.Seq, "Append assigns ev.Seq")
	assert.Equal(t, int64(2), e2.Seq)
	push(t, s, "app1", func(tx dc.PushTx) error { return tx.Append(e3) })
	assert.Equal(t, int64(3), e3.Seq)

	evs, audit := pullAll(t, s, "app1")
	assert.Equal(t, []*dc.Event{e1, e2, e3}, evs, "events round-trip, in seq order")
	assert.Empty(t, audit)
	for since, want := range map[int64]int{0: 3, 1: 2, 3: 0, 9: 0} {
		n, err := s.CountAfter(ctx, "app1", since)
		require.NoError(t, err)
		assert.Equal(t, want, n, "CountAfter(%d)", since)
	}
	n, err := s.CountAfter(ctx, "other", 0)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func testPushTxReads(t *testing.T, s dc.ServerStore) {
	push(t, s, "app1", appendAll(Event("e1", "p1", map[string]any{"v": 1.0}), Event("e2", "p2", map[string]any{"v": 2.0})))
	push(t, s, "app1", func(tx dc.PushTx) error {
		evs, err := tx.Events([]string{"e1", "e2", "e3", "e1"})
		require.NoError(t, err)
		require.Len(t, evs, 2, "Events returns the stored events only")
		assert.Equal(t, int64(1), evs["e1"].Seq)
		assert.Equal(t, int64(2), evs["e2"].Seq)
		assert.Equal(t, 2.0, evs["e2"].Data["v"])
		none, err := tx.Events(nil)
		require.NoError(t, err)
		assert.Empty(t, none)

		e3 := Event("e3", "p3", map[string]any{"v": 3.0})
		require.NoError(t, tx.Append(e3))
		evs, err = tx.Events([]string{"e3"})
		require.NoError(t, err)
		require.Contains(t, evs, "e3", "Events sees an event appended earlier in the transaction")
		assert.Equal(t, int64(3), evs["e3"].Seq)

		ents, err := tx.Entities([]string{"p1", "p3", "p9"})
		require.NoError(t, err)
		require.Len(t, ents, 1)
		assert.Equal(t, 1.0, ents["p1"].Data["v"])
		p3 := Entity("p3", map[string]any{"v": 3.0})
		require.NoError(t, tx.PutEntity(p3))
		p1 := Entity("p1", map[string]any{"v": 10.0})
		p1.Version = 2
		require.NoError(t, tx.PutEntity(p1))
		ents, err = tx.Entities([]string{"p1", "p3"})
		require.NoError(t, err)
		assert.Equal(t, map[string]*dc.Entity{"p1": p1, "p3": p3}, ents, "Entities sees the transaction's puts")
		return nil
	})
	got, err := s.Entity(ctx, "app1", "p1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), got.Version)
}

func testAppendExisting(t *testing.T, s dc.ServerStore) {
	push(t, s, "app1", appendAll(Event("e1", "p1", map[string]any{"v": 1.0})))
	err := s.Push(ctx, "app1", func(tx dc.PushTx) error {
		err := tx.Append(Event("e1", "p1", map[string]any{"v": "other"}))
		assert.Equal(t, dc.EEXISTS, dc.ErrorCode(err), "appending an existing guid: %v", err)
		return err
	})
	assert.Equal(t, dc.EEXISTS, dc.ErrorCode(err))
	evs, _ := pullAll(t, s, "app1")
	require.Len(t, evs, 1)
	assert.Equal(t, 1.0, evs[0].Data["v"])
	// The failed push consumed no sequence number.
	e2 := Event("e2", "p2", nil)
	push(t, s, "app1", func(tx dc.PushTx) error { return tx.Append(e2) })
	assert.Equal(t, int64(2), e2.Seq)
}

func testManyGUIDs(t *testing.T, s dc.ServerStore) {
	const n = 600
	var evs []*dc.Event
	var all []string
	for i := range n {
		evs = append(evs, Event(fmt.Sprintf("e%03d", i), fmt.Sprintf("p%03d", i), map[string]any{"i": float64(i)}))
		all = append(all, fmt.Sprintf("e%03d", i), fmt.Sprintf("missing%03d", i))
	}
	push(t, s, "app1", appendAll(evs...))
	push(t, s, "app1", func(tx dc.PushTx) error {
		got, err := tx.Events(all)
		require.NoError(t, err)
		assert.Len(t, got, n)
		for i, e := range evs {
			if assert.Contains(t, got, e.GUID) {
				assert.Equal(t, int64(i+1), got[e.GUID].Seq)
			}
		}
		ents, err := tx.Entities(append([]string{"p000", "p599"}, all...))
		require.NoError(t, err)
		assert.Len(t, ents, 2)
		return nil
	})
}

func testRollback(t *testing.T, s dc.ServerStore) {
	boom := errors.New("boom")
	err := s.Push(ctx, "app1", func(tx dc.PushTx) error {
		if err := appendAll(Event("e1", "p1", map[string]any{"v": 1.0}))(tx); err != nil {
			return err
		}
		return boom
	})
	assert.Same(t, boom, err, "Push returns fn's error unchanged")
	n, err := s.CountAfter(ctx, "app1", 0)
	require.NoError(t, err)
	assert.Zero(t, n)
	ent, err := s.Entity(ctx, "app1", "p1")
	require.NoError(t, err)
	assert.Nil(t, ent, "no entity")
	evs, audit := pullAll(t, s, "app1")
	assert.Empty(t, evs)
	assert.Empty(t, audit)

	// No sequence number was consumed, and the rolled-back audit entry
	// (seq 1) does not come back with the next event of seq 1.
	e2 := Event("e2", "p2", nil)
	push(t, s, "app1", func(tx dc.PushTx) error {
		got, err := tx.Events([]string{"e1"})
		require.NoError(t, err)
		assert.Empty(t, got)
		return tx.Append(e2)
	})
	assert.Equal(t, int64(1), e2.Seq)
	evs, audit = pullAll(t, s, "app1")
	assert.Equal(t, "e2@1", guids(evs))
	assert.Empty(t, audit)
}

func testPullPages(t *testing.T, s dc.ServerStore) {
	e := make([]*dc.Event, 6)
	for i := 1; i <= 5; i++ {
		e[i] = Event(fmt.Sprintf("e%d", i), "p1", map[string]any{"i": float64(i)})
	}
	// Audit entries are appended out of seq order, and one (x2) for an
	// event of an earlier push.
	push(t, s, "app1", func(tx dc.PushTx) error {
		for _, ev := range e[1:4] {
			require.NoError(t, tx.Append(ev))
		}
		require.NoError(t, tx.AppendAudit(3, Audit("x3a", e[3])))
		require.NoError(t, tx.AppendAudit(1, Audit("x1", e[1])))
		return tx.AppendAudit(3, Audit("x3b", e[3]))
	})
	push(t, s, "app1", func(tx dc.PushTx) error {
		require.NoError(t, tx.Append(e[4]))
		require.NoError(t, tx.Append(e[5]))
		require.NoError(t, tx.AppendAudit(5, Audit("x5", e[5])))
		require.NoError(t, tx.AppendAudit(4, Audit("x4", e[4])))
		return tx.AppendAudit(2, Audit("x2", e[2]))
	})
	pages := []struct {
		since         int64
		limit         int
		events, audit string
		more          bool
	}{
		{0, 2, "e1@1,e2@2", "x1,x2", true},
		{2, 2, "e3@3,e4@4", "x3a,x3b,x4", true},
		{4, 2, "e5@5", "x5", false},
		{5, 2, "", "", false},
		{3, 1, "e4@4", "x4", true},
		{0, 5, "e1@1,e2@2,e3@3,e4@4,e5@5", "x1,x2,x3a,x3b,x4,x5", false},
		{0, 4, "e1@1,e2@2,e3@3,e4@4", "x1,x2,x3a,x3b,x4", true},
	}
	for _, p := range pages {
		evs, audit, more, err := s.Pull(ctx, "app1", p.since, p.limit)
		require.NoError(t, err)
		assert.Equal(t, p.events, guids(evs), "Pull(%d, %d) events", p.since, p.limit)
		assert.Equal(t, p.audit, auditGUIDs(audit), "Pull(%d, %d) audit", p.since, p.limit)
		assert.Equal(t, p.more, more, "Pull(%d, %d) hasMore", p.since, p.limit)
	}
	evs, audit := pullAll(t, s, "app1")
	assert.Equal(t, e[1:], evs)
	require.Len(t, audit, 6)
	ids := map[int64]bool{}
	for _, a := range audit {
		assert.Positive(t, a.ID, "the store assigns audit ids")
		ids[a.ID] = true
	}
	assert.Len(t, ids, 6, "audit ids are distinct")
	assert.Less(t, audit[2].ID, audit[3].ID, "entries of one seq come in insertion order")
	want := Audit("x3a", e[3])
	// The store assigns the id and may chain the entry (see core.AuditHash).
	want.ID, want.Hash = audit[2].ID, audit[2].Hash
	assert.Equal(t, want, audit[2], "audit entries round-trip")
}

func testTenancy(t *testing.T, s dc.ServerStore) {
	push(t, s, "a", appendAll(Event("e1", "p1", map[string]any{"app": "a"}), Event("ea", "pa", map[string]any{"app": "a"})))
	push(t, s, "b", func(tx dc.PushTx) error {
		evs, err := tx.Events([]string{"e1", "ea"})
		require.NoError(t, err)
		assert.Empty(t, evs, "b does not see a's events")
		ents, err := tx.Entities([]string{"p1", "pa"})
		require.NoError(t, err)
		assert.Empty(t, ents, "b does not see a's entities")
		return appendAll(Event("e1", "p1", map[string]any{"app": "b"}))(tx)
	})
	a, aAudit := pullAll(t, s, "a")
	b, bAudit := pullAll(t, s, "b")
	assert.Equal(t, "e1@1,ea@2", guids(a))
	assert.Equal(t, "e1@1", guids(b), "each app has its own sequence")
	assert.Equal(t, "a", a[0].Data["app"])
	assert.Equal(t, "b", b[0].Data["app"])
	assert.Len(t, aAudit, 2)
	require.Len(t, bAudit, 1)
	assert.Equal(t, "a-e1", bAudit[0].GUID)
	n, err := s.CountAfter(ctx, "b", 0)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ent, err := s.Entity(ctx, "b", "p1")
	require.NoError(t, err)
	assert.Equal(t, "b", ent.Data["app"])
	ent, err = s.Entity(ctx, "b", "pa")
	require.NoError(t, err)
	assert.Nil(t, ent)

	require.NoError(t, s.CreateUser(ctx, &dc.User{AppID: "a", Email: "ana@example.org", PasswordHash: "ha"}))
	require.NoError(t, s.CreateUser(ctx, &dc.User{AppID: "b", Email: "ana@example.org", PasswordHash: "hb"}),
		"one email in two apps is two users")
	require.NoError(t, s.CreateUser(ctx, &dc.User{AppID: "a", Email: "only-a@example.org"}))
	u, err := s.UserByEmail(ctx, "b", "ana@example.org")
	require.NoError(t, err)
	assert.Equal(t, "hb", u.PasswordHash)
	assert.Equal(t, "b", u.AppID)
	_, err = s.UserByEmail(ctx, "b", "only-a@example.org")
	assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err))
}

func testEntityRoundTrip(t *testing.T, s dc.ServerStore) {
	person := &dc.Entity{
		GUID: "p1", Type: dc.Individual, Version: 3,
		Data: map[string]any{
			"name": "Ana Lúcia 👋", "age": 31.5, "alive": true, "nothing": nil,
			"address": map[string]any{"city": "Lyon", "geo": []any{45.76, 4.84}, "lines": []any{map[string]any{"n": 1.0}}},
			"tags":    []any{"a", "b"},
			"empty":   map[string]any{},
		},
		ExternalID: "REG-42", LastUpdated: "2026-11-25T10:00:00.123Z", SyncLevel: dc.External,
	}
	group := &dc.Entity{GUID: "g1", Type: dc.Group, Version: 1, Data: map[string]any{}, MemberIDs: []string{"p1", "g2"},
		LastUpdated: "2026-11-25T10:00:00.000Z", SyncLevel: dc.Synced}
	emptyGroup := &dc.Entity{GUID: "g2", Type: dc.Group, Version: 1, MemberIDs: []string{}, Deleted: true,
		LastUpdated: "2026-11-25T10:00:00.000Z", SyncLevel: dc.Synced}
	push(t, s, "app1", func(tx dc.PushTx) error {
		for _, e := range []*dc.Entity{person, group, emptyGroup} {
			if err := tx.PutEntity(e); err != nil {
				return err
			}
		}
		return nil
	})
	for _, want := range []*dc.Entity{person, group, emptyGroup} {
		got, err := s.Entity(ctx, "app1", want.GUID)
		require.NoError(t, err)
		assert.Equal(t, want, got, "entity %s round-trips (nil and empty kept apart)", want.GUID)
	}
	// PutEntity replaces.
	person2 := person.Clone()
	person2.Version, person2.ExternalID = 4, ""
	person2.Data = map[string]any{"name": "Ana"}
	push(t, s, "app1", func(tx dc.PushTx) error { return tx.PutEntity(person2) })
	got, err := s.Entity(ctx, "app1", "p1")
	require.NoError(t, err)
	assert.Equal(t, person2, got)
	got, err = s.Entity(ctx, "app1", "missing")
	require.NoError(t, err)
	assert.Nil(t, got)
}

func testUsers(t *testing.T, s dc.ServerStore) {
	u := &dc.User{AppID: "app1", Email: "Ana@Example.ORG", PasswordHash: "hash", Role: dc.RoleAdmin}
	require.NoError(t, s.CreateUser(ctx, u))
	assert.NotEmpty(t, u.ID, "CreateUser generates an id")
	_, err := dc.ParseTime(u.CreatedAt)
	assert.NoError(t, err, "CreateUser sets CreatedAt")
	for _, email := range []string{"ana@example.org", "ANA@EXAMPLE.ORG", "Ana@Example.ORG"} {
		got, err := s.UserByEmail(ctx, "app1", email)
		require.NoError(t, err, email)
		assert.Equal(t, &dc.User{ID: u.ID, AppID: "app1", Email: "ana@example.org", PasswordHash: "hash",
			Role: dc.RoleAdmin, CreatedAt: u.CreatedAt}, got, email)
	}
	err = s.CreateUser(ctx, &dc.User{AppID: "app1", Email: "ana@EXAMPLE.org", PasswordHash: "x", Role: dc.RoleSync})
	assert.Equal(t, dc.EEXISTS, dc.ErrorCode(err), "emails are unique case-insensitively: %v", err)
	_, err = s.UserByEmail(ctx, "app1", "bob@example.org")
	assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err))

	bob := &dc.User{ID: "u-2", AppID: "app1", Email: "bob@example.org", PasswordHash: "h2", Role: dc.RoleSync,
		CreatedAt: "2026-01-02T03:04:05.000Z"}
	require.NoError(t, s.CreateUser(ctx, bob))
	got, err := s.UserByEmail(ctx, "app1", "bob@example.org")
	require.NoError(t, err)
	assert.Equal(t, bob, got, "a given id and creation time are kept")
}

func testSecret(t *testing.T, s dc.ServerStore) {
	calls := 0
	gen := func(v string) func() ([]byte, error) {
		return func() ([]byte, error) { calls++; return []byte(v), nil }
	}
	v, err := s.Secret(ctx, "jwt", gen("first"))
	require.NoError(t, err)
	assert.Equal(t, []byte("first"), v)
	v, err = s.Secret(ctx, "jwt", gen("second"))
	require.NoError(t, err)
	assert.Equal(t, []byte("first"), v, "the secret is created once")
	assert.Equal(t, 1, calls)
	v, err = s.Secret(ctx, "other", gen("other"))
	require.NoError(t, err)
	assert.Equal(t, []byte("other"), v)

	boom := errors.New("boom")
	_, err = s.Secret(ctx, "failing", func() ([]byte, error) { return nil, boom })
	assert.ErrorIs(t, err, boom)
	v, err = s.Secret(ctx, "failing", gen("ok"))
	require.NoError(t, err)
	assert.Equal(t, []byte("ok"), v, "a failed generate stores nothing")

	raceSecret(t, s, s)
}

// raceSecret has goroutines create one secret concurrently through a and b:
// all get the same.
func raceSecret(t *testing.T, a, b dc.ServerStore) {
	const n = 8
	got := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			v, err := s.Secret(ctx, "raced", func() ([]byte, error) { return fmt.Appendf(nil, "secret-%d", i), nil })
			assert.NoError(t, err)
			got[i] = v
		})
	}
	wg.Wait()
	for i := range n {
		assert.Equal(t, got[0], got[i], "racing creators get the same secret")
	}
}

func testSharedSecret(t *testing.T, a, b dc.ServerStore) {
	v, err := a.Secret(ctx, "jwt", func() ([]byte, error) { return []byte("from-a"), nil })
	require.NoError(t, err)
	assert.Equal(t, []byte("from-a"), v)
	v, err = b.Secret(ctx, "jwt", func() ([]byte, error) {
		t.Error("the second store generated a secret the database has")
		return []byte("from-b"), nil
	})
	require.NoError(t, err)
	assert.Equal(t, []byte("from-a"), v, "every server process gets the same secret")
	raceSecret(t, a, b)
}

// Sizes of the concurrency test.
const (
	pushers       = 8
	pushesEach    = 50
	pullPageLimit = 7
)

// concurrentPushes has goroutines push one event each time to one app,
// through a and b in turn, while a puller follows each store: every event
// gets a distinct seq of 1..N, and the pullers see them all, in order,
// without a gap.
func concurrentPushes(t *testing.T, a, b dc.ServerStore) {
	const n = pushers * pushesEach
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var pullers sync.WaitGroup
	for _, s := range []dc.ServerStore{a, b} {
		pullers.Go(func() { follow(ctx, t, s, "app1", n) })
		if a == b {
			break
		}
	}
	var wg sync.WaitGroup
	for g := range pushers {
		s := a
		if g%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for i := range pushesEach {
				ev := Event(fmt.Sprintf("e-%d-%d", g, i), fmt.Sprintf("p-%d", g), map[string]any{"i": float64(i)})
				if err := s.Push(ctx, "app1", appendAll(ev)); err != nil {
					t.Errorf("push %s: %v", ev.GUID, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		cancel() // the pullers would wait for events that never come
	}
	pullers.Wait()

	evs, audit := pullAll(t, a, "app1")
	require.Len(t, evs, n)
	seen := map[string]bool{}
	for i, e := range evs {
		assert.Equal(t, int64(i+1), e.Seq)
		assert.False(t, seen[e.GUID], "event %s once", e.GUID)
		seen[e.GUID] = true
	}
	require.Len(t, audit, n)
	for i, x := range audit {
		assert.Equal(t, evs[i].GUID, x.EventGUID, "audit entry %d belongs to event %d", i, i+1)
	}
	count, err := b.CountAfter(ctx, "app1", 0)
	require.NoError(t, err)
	assert.Equal(t, n, count)
}

// follow pulls app's events as a client does, from its last seq, until it
// has n, and reports any gap or disorder: a late commit that a puller
// skipped would show as one.
func follow(ctx context.Context, t *testing.T, s dc.ServerStore, app string, n int) {
	var last int64
	for last < int64(n) {
		evs, audit, _, err := s.Pull(ctx, app, last, pullPageLimit)
		if err != nil {
			t.Errorf("pull after %d: %v", last, err)
			return
		}
		for _, e := range evs {
			if e.Seq != last+1 {
				t.Errorf("a puller at seq %d received seq %d: seq %d was skipped or repeated", last, e.Seq, last+1)
				return
			}
			last = e.Seq
		}
		if len(audit) != len(evs) {
			t.Errorf("pull returned %d events with %d audit entries", len(evs), len(audit))
			return
		}
		if len(evs) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

// lateCommit holds push A open (after its Append) while push B of the same
// app, through b, starts: B must wait for A, and no pull may see B's event
// before A's. With rollback, A fails in the end and B's event takes seq 1.
func lateCommit(t *testing.T, a, b dc.ServerStore, rollback bool) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	appended, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	releaseA := func() { once.Do(func() { close(release) }) }
	defer releaseA() // whatever fails, A ends and nothing deadlocks
	abort := errors.New("A fails")
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() {
		errA <- a.Push(ctx, "app1", func(tx dc.PushTx) error {
			if err := tx.Append(Event("a1", "pa", nil)); err != nil {
				return err
			}
			close(appended)
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			if rollback {
				return abort
			}
			return nil
		})
	}()
	select {
	case <-appended:
	case err := <-errA:
		t.Fatalf("push A returned before it was released: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("push A did not start")
	}
	go func() {
		errB <- b.Push(ctx, "app1", func(tx dc.PushTx) error { return tx.Append(Event("b1", "pb", nil)) })
	}()

	// While A is open, B cannot commit, and a puller sees nothing: seeing
	// b1 would mean skipping a1 for good once A commits.
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		for _, s := range []dc.ServerStore{a, b} {
			evs, _, _, err := s.Pull(ctx, "app1", 0, 10)
			require.NoError(t, err)
			require.Empty(t, guids(evs), "a pull saw events while the first push was still open")
			n, err := s.CountAfter(ctx, "app1", 0)
			require.NoError(t, err)
			require.Zero(t, n)
		}
		select {
		case err := <-errB:
			t.Fatalf("push B returned (%v) while push A was open: pushes of one app must be serialised", err)
		default:
		}
		time.Sleep(20 * time.Millisecond)
	}

	releaseA()
	for name, ch := range map[string]chan error{"A": errA, "B": errB} {
		select {
		case err := <-ch:
			if name == "A" && rollback {
				assert.Same(t, abort, err)
			} else {
				require.NoError(t, err, "push %s", name)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("push %s did not end", name)
		}
	}
	want := "a1@1,b1@2"
	if rollback {
		want = "b1@1"
	}
	for _, s := range []dc.ServerStore{a, b} {
		evs, _ := pullAll(t, s, "app1")
		assert.Equal(t, want, guids(evs))
	}
}

func testClosed(t *testing.T, s dc.ServerStore) {
	push(t, s, "app1", appendAll(Event("e1", "p1", nil)))
	require.NoError(t, s.Close())
	errs := map[string]error{}
	errs["Push"] = s.Push(ctx, "app1", func(dc.PushTx) error { return nil })
	_, _, _, errs["Pull"] = s.Pull(ctx, "app1", 0, 10)
	_, errs["CountAfter"] = s.CountAfter(ctx, "app1", 0)
	_, errs["Entity"] = s.Entity(ctx, "app1", "p1")
	errs["CreateUser"] = s.CreateUser(ctx, &dc.User{AppID: "app1", Email: "a@b.c"})
	_, errs["UserByEmail"] = s.UserByEmail(ctx, "app1", "a@b.c")
	_, errs["Secret"] = s.Secret(ctx, "jwt", func() ([]byte, error) { return []byte("x"), nil })
	errs["AppendSyncLog"] = s.AppendSyncLog(ctx, "app1", SyncEntry("l1", dc.AuditPush, "d1", 1, dc.AuditOK))
	_, errs["SyncLog"] = s.SyncLog(ctx, "app1", dc.SyncLogQuery{Limit: 10})
	errs["PutDevice"] = s.PutDevice(ctx, &dc.Device{AppID: "app1", DeviceID: "d1"})
	_, errs["Devices"] = s.Devices(ctx, "app1")
	errs["PutRefreshToken"] = s.PutRefreshToken(ctx, refreshToken("h1", "f1"))
	_, errs["UseRefreshToken"] = s.UseRefreshToken(ctx, "h1", tokenNow, nextToken("h2"))
	_, errs["RefreshToken"] = s.RefreshToken(ctx, "h1")
	errs["RevokeFamily"] = s.RevokeFamily(ctx, "f1", tokenNow)
	errs["RevokeToken"] = s.RevokeToken(ctx, "j1", tokenNow)
	_, errs["TokenRevoked"] = s.TokenRevoked(ctx, "j1", "f1", tokenNow)
	_, errs["PruneTokens"] = s.PruneTokens(ctx, tokenNow)
	names := make([]string, 0, len(errs))
	for name := range errs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		assert.Equal(t, dc.ECLOSED, dc.ErrorCode(errs[name]), "%s after Close: %v", name, errs[name])
	}
}
