// Package clienttest holds the client's behaviour tests, written once and
// run against every store: natively over the in-memory store and in headless
// Chromium over IndexedDB.
package clienttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
)

// Run runs the client suite; open returns a fresh empty store per test.
func Run(t *testing.T, open func(t *testing.T) dc.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c *client.Client, s dc.Store)
	}{
		{"SubmitCreatesEntity", testSubmitCreates},
		{"HouseholdWithMembers", testHousehold},
		{"BatchIsAtomic", testBatchAtomic},
		{"InvalidChangesNothing", testInvalidChangesNothing},
		{"IdempotentByGUID", testIdempotent},
		{"UpdatesAreDeltasAndVersioned", testUpdates},
		{"ListsAndAudit", testListsAndAudit},
		{"ChangeNotifications", testNotifications},
		{"ConcurrentWritersConverge", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			c := New(s)
			defer c.Close()
			tc.fn(t, c, s)
		})
	}
}

var (
	guidMu sync.Mutex
	guidN  int
)

// New returns a client with a fixed clock and sequential guids (unique
// across the clients of one test binary).
func New(s dc.Store) *client.Client {
	return client.New(s, client.Options{
		UserID: "worker-1",
		Now:    func() time.Time { return time.Date(2026, 11, 25, 9, 30, 0, 123e6, time.UTC) },
		NewGUID: func() string {
			guidMu.Lock()
			defer guidMu.Unlock()
			guidN++
			return fmt.Sprintf("guid-%04d", guidN)
		},
	})
}

var ctx = context.Background()

func testSubmitCreates(t *testing.T, c *client.Client, s dc.Store) {
	ev, err := c.SubmitForm(ctx, client.Form{Type: "create-individual", Data: map[string]any{"name": "Ana", "age": 31}})
	require.NoError(t, err)
	assert.Equal(t, dc.Local, ev.SyncLevel)
	assert.Equal(t, "2026-11-25T09:30:00.123Z", ev.Timestamp)
	assert.Equal(t, "worker-1", ev.UserID)
	assert.NotEmpty(t, ev.GUID)
	assert.NotEmpty(t, ev.EntityGUID)
	assert.Zero(t, ev.BaseVersion)
	e, err := c.Entity(ctx, ev.EntityGUID)
	require.NoError(t, err)
	require.NotNil(t, e)
	assert.Equal(t, dc.Individual, e.Type)
	assert.Equal(t, int64(1), e.Version)
	assert.Equal(t, map[string]any{"name": "Ana", "age": 31.0}, e.Data)
	assert.Equal(t, dc.Local, e.SyncLevel)
	rec, err := c.EntityRecord(ctx, ev.EntityGUID)
	require.NoError(t, err)
	assert.Nil(t, rec.Confirmed, "never confirmed by a server")
	assert.Equal(t, []string{ev.GUID}, rec.Pending)
	up, err := c.SubmitForm(ctx, client.Form{Type: "update-individual", EntityGUID: ev.EntityGUID, Data: map[string]any{"age": 32}})
	require.NoError(t, err)
	rec, err = c.EntityRecord(ctx, ev.EntityGUID)
	require.NoError(t, err)
	assert.Equal(t, []string{ev.GUID, up.GUID}, rec.Pending, "pending events in local order")
	none, err := c.Entity(ctx, "nope")
	require.NoError(t, err)
	assert.Nil(t, none)
}

func testHousehold(t *testing.T, c *client.Client, s dc.Store) {
	ev, err := c.SubmitForm(ctx, client.Form{Type: "create-group", EntityGUID: "hh1", Data: map[string]any{
		"name": "Household 1",
		"members": []any{
			map[string]any{"name": "Ana", "role": "head"},
			map[string]any{"name": "Ben"},
		},
	}})
	require.NoError(t, err)
	members := ev.Data["members"].([]any)
	g1 := members[0].(map[string]any)["guid"].(string)
	g2 := members[1].(map[string]any)["guid"].(string)
	assert.NotEqual(t, g1, g2, "members get guids stored in the event, so every replica creates the same ones")
	hh, err := c.Entity(ctx, "hh1")
	require.NoError(t, err)
	assert.Equal(t, []string{g1, g2}, hh.MemberIDs)
	assert.Equal(t, map[string]any{"name": "Household 1"}, hh.Data)
	ana, err := c.Entity(ctx, g1)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"name": "Ana", "role": "head"}, ana.Data)
	_, err = c.SubmitForm(ctx, client.Form{Type: "add-member", EntityGUID: "hh1", Data: map[string]any{
		"members": []any{map[string]any{"name": "Cy"}, map[string]any{"name": "Dee"}}}})
	require.NoError(t, err)
	hh, err = c.Entity(ctx, "hh1")
	require.NoError(t, err)
	assert.Len(t, hh.MemberIDs, 4)
	ind, err := c.ListEntities(ctx, client.EntityFilter{Type: dc.Individual})
	require.NoError(t, err)
	assert.Len(t, ind, 4)
}

func testBatchAtomic(t *testing.T, c *client.Client, s dc.Store) {
	evs, err := c.SubmitForms(ctx, []client.Form{
		{Type: "create-group", EntityGUID: "g", Data: map[string]any{"name": "G"}},
		{Type: "add-member", EntityGUID: "g", Data: map[string]any{"members": []any{map[string]any{"name": "A"}}}},
		{Type: "update-group", EntityGUID: "g", Data: map[string]any{"village": "V"}},
	})
	require.NoError(t, err)
	require.Len(t, evs, 3)
	assert.Equal(t, int64(0), evs[0].BaseVersion)
	assert.Equal(t, int64(1), evs[1].BaseVersion, "later forms see earlier ones")
	assert.Equal(t, int64(2), evs[2].BaseVersion)
	g, err := c.Entity(ctx, "g")
	require.NoError(t, err)
	assert.Equal(t, int64(3), g.Version)

	// One bad form in a batch: nothing is written.
	_, err = c.SubmitForms(ctx, []client.Form{
		{Type: "create-individual", EntityGUID: "ok1", Data: map[string]any{"name": "fine"}},
		{Type: "update-individual", EntityGUID: "missing", Data: map[string]any{"name": "x"}},
	})
	require.Error(t, err)
	assert.Equal(t, dc.ENOTFOUND, dc.ErrorCode(err))
	assert.Contains(t, err.Error(), "forms[1]")
	ok1, err := c.Entity(ctx, "ok1")
	require.NoError(t, err)
	assert.Nil(t, ok1)
	n, err := s.CountEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	empty, err := c.SubmitForms(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func testInvalidChangesNothing(t *testing.T, c *client.Client, s dc.Store) {
	cases := []struct {
		form client.Form
		code string
	}{
		{client.Form{Type: "no-such", Data: map[string]any{"a": 1}}, dc.EINVALID},
		{client.Form{Type: "", Data: map[string]any{"a": 1}}, dc.EINVALID},
		{client.Form{Type: "create-individual"}, dc.EINVALID},
		{client.Form{Type: "create-individual", Data: map[string]any{}}, dc.EINVALID},
		{client.Form{Type: "update-individual", Data: map[string]any{"a": 1}}, dc.EINVALID},
		{client.Form{Type: "update-individual", EntityGUID: "zz", Data: map[string]any{"a": 1}}, dc.ENOTFOUND},
		{client.Form{Type: "create-individual", Timestamp: "noon", Data: map[string]any{"a": 1}}, dc.EINVALID},
		{client.Form{Type: "create-individual", Data: map[string]any{"a": struct{}{}}}, dc.EINVALID},
		{client.Form{Type: "remove-member", EntityGUID: "zz", Data: map[string]any{"memberId": "x"}}, dc.ENOTFOUND},
	}
	for _, tc := range cases {
		_, err := c.SubmitForm(ctx, tc.form)
		assert.Equal(t, tc.code, dc.ErrorCode(err), "%+v: %v", tc.form, err)
	}
	n, err := s.CountEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	assert.Zero(t, n)
	ents, err := s.ListEntities(ctx, dc.EntityQuery{})
	require.NoError(t, err)
	assert.Empty(t, ents)
	as, err := s.Audit(ctx, dc.AuditQuery{})
	require.NoError(t, err)
	assert.Empty(t, as)
}

func testIdempotent(t *testing.T, c *client.Client, s dc.Store) {
	f := client.Form{GUID: "fixed-1", Type: "create-individual", EntityGUID: "p", Data: map[string]any{"name": "A", "n": 1}}
	first, err := c.SubmitForm(ctx, f)
	require.NoError(t, err)
	again, err := c.SubmitForm(ctx, f)
	require.NoError(t, err, "a resubmission of the same form is not an error")
	assert.Equal(t, first.GUID, again.GUID)
	assert.Equal(t, first.Data, again.Data)
	n, err := s.CountEvents(ctx, dc.EventQuery{})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	f.Data = map[string]any{"name": "B"}
	_, err = c.SubmitForm(ctx, f)
	assert.Equal(t, dc.EEXISTS, dc.ErrorCode(err))
	// Creating an entity whose guid exists (assumed new, found on commit).
	_, err = c.SubmitForm(ctx, client.Form{Type: "create-individual", EntityGUID: "p", Data: map[string]any{"name": "C"}})
	assert.Equal(t, dc.EEXISTS, dc.ErrorCode(err))
	_, err = c.SubmitForm(ctx, client.Form{Type: "create-group", EntityGUID: "g", Data: map[string]any{"name": "G",
		"members": []any{map[string]any{"guid": "p", "name": "clash"}}}})
	assert.Equal(t, dc.EEXISTS, dc.ErrorCode(err))
	g, err := c.Entity(ctx, "g")
	require.NoError(t, err)
	assert.Nil(t, g, "nothing of the failed household was written")
	p, err := c.Entity(ctx, "p")
	require.NoError(t, err)
	assert.Equal(t, "A", p.Data["name"])
	_, err = c.SubmitForms(ctx, []client.Form{
		{GUID: "dup", Type: "create-individual", Data: map[string]any{"a": 1}},
		{GUID: "dup", Type: "create-individual", Data: map[string]any{"a": 1}},
	})
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(err))
}

func testUpdates(t *testing.T, c *client.Client, s dc.Store) {
	_, err := c.SubmitForm(ctx, client.Form{Type: "create-individual", EntityGUID: "p", Data: map[string]any{"name": "A", "phone": "1"}})
	require.NoError(t, err)
	up, err := c.SubmitForm(ctx, client.Form{Type: "update-individual", EntityGUID: "p", Data: map[string]any{"phone": "2"}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), up.BaseVersion)
	assert.Equal(t, map[string]any{"phone": "2"}, up.Data, "the event carries only the delta")
	p, err := c.Entity(ctx, "p")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"name": "A", "phone": "2"}, p.Data)
	assert.Equal(t, int64(2), p.Version)
	_, err = c.SubmitForm(ctx, client.Form{Type: "delete-entity", EntityGUID: "p"})
	require.NoError(t, err)
	p, err = c.Entity(ctx, "p")
	require.NoError(t, err)
	assert.True(t, p.Deleted, "a tombstone, so the delete can sync")
	live, err := c.ListEntities(ctx, client.EntityFilter{})
	require.NoError(t, err)
	assert.Empty(t, live)
	all, err := c.ListEntities(ctx, client.EntityFilter{IncludeDeleted: true})
	require.NoError(t, err)
	assert.Len(t, all, 1)
}

func testListsAndAudit(t *testing.T, c *client.Client, s dc.Store) {
	_, err := c.SubmitForms(ctx, []client.Form{
		{Type: "create-individual", EntityGUID: "a", Data: map[string]any{"name": "A"}},
		{Type: "create-group", EntityGUID: "g", Data: map[string]any{"name": "G"}},
		{Type: "update-individual", EntityGUID: "a", Data: map[string]any{"name": "A2"}},
	})
	require.NoError(t, err)
	evs, err := c.ListEvents(ctx, dc.EventQuery{EntityGUID: "a"})
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, "create-individual", evs[0].Type)
	assert.Equal(t, "update-individual", evs[1].Type)
	local, err := c.ListEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
	require.NoError(t, err)
	assert.Len(t, local, 3)
	synced, err := c.ListEvents(ctx, dc.EventQuery{SyncLevel: dc.Synced})
	require.NoError(t, err)
	assert.Empty(t, synced)
	_, err = c.ListEvents(ctx, dc.EventQuery{SyncLevel: "BOGUS"})
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(err))
	groups, err := c.ListEntities(ctx, client.EntityFilter{Type: dc.Group})
	require.NoError(t, err)
	require.Len(t, groups, 1)
	_, err = c.ListEntities(ctx, client.EntityFilter{Type: "animal"})
	assert.Equal(t, dc.EINVALID, dc.ErrorCode(err))
	audit, err := c.AuditLog(ctx, dc.AuditQuery{Limit: 2})
	require.NoError(t, err)
	require.Len(t, audit, 2)
	assert.Equal(t, "update-individual", audit[0].Action, "newest first")
	assert.Equal(t, "worker-1", audit[0].UserID)
	assert.Equal(t, []dc.FieldChange{{Field: "name", Old: "A", New: "A2"}}, audit[0].Changes)
	assert.Equal(t, evs[1].GUID, audit[0].EventGUID)
}

func testNotifications(t *testing.T, c *client.Client, s dc.Store) {
	var got [][]string
	unsub := c.Subscribe(func(ch client.Change) {
		var g []string
		for _, e := range ch.Entities {
			g = append(g, e.GUID)
		}
		got = append(got, g)
	})
	_, err := c.SubmitForm(ctx, client.Form{Type: "create-group", EntityGUID: "g", Data: map[string]any{
		"name": "G", "members": []any{map[string]any{"guid": "m", "name": "M"}}}})
	require.NoError(t, err)
	_, err = c.SubmitForm(ctx, client.Form{Type: "update-individual", EntityGUID: "nope", Data: map[string]any{"a": 1}})
	require.Error(t, err)
	unsub()
	_, err = c.SubmitForm(ctx, client.Form{Type: "create-individual", Data: map[string]any{"a": 1}})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"g", "m"}}, got)
}

// testConcurrent: two clients (two tabs) over one store update the same
// entity at once; optimistic commits serialise them and no update is lost.
func testConcurrent(t *testing.T, c *client.Client, s dc.Store) {
	_, err := c.SubmitForm(ctx, client.Form{Type: "create-individual", EntityGUID: "p", Data: map[string]any{"n": 0}})
	require.NoError(t, err)
	other := New(s)
	const each = 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for _, cl := range []*client.Client{c, other} {
		wg.Add(1)
		go func(cl *client.Client, prefix string) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := cl.SubmitForm(ctx, client.Form{Type: "update-individual", EntityGUID: "p",
					Data: map[string]any{fmt.Sprintf("%s%d", prefix, i): i}})
				errs <- err
			}
		}(cl, fmt.Sprintf("c%p", cl))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	p, err := c.Entity(ctx, "p")
	require.NoError(t, err)
	assert.Equal(t, int64(1+2*each), p.Version)
	assert.Len(t, p.Data, 1+2*each, "no lost update")
	evs, err := c.ListEvents(ctx, dc.EventQuery{EntityGUID: "p"})
	require.NoError(t, err)
	for i, ev := range evs {
		assert.Equal(t, int64(i), ev.BaseVersion, "events chain by version in insertion order")
	}
}
