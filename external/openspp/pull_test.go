//go:build !js

package openspp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/external"
	"github.com/datacollect/datacollect/external/openspp/standin"
)

// pullAll pulls pages from cursor until More is false and returns the
// records and the last cursor.
func pullAll(t *testing.T, a external.Adapter, cursor string, limit int) ([]*external.Record, string, int) {
	t.Helper()
	var all []*external.Record
	pages := 0
	for {
		page, err := a.Pull(ctx, cursor, limit)
		require.NoError(t, err)
		pages++
		require.LessOrEqual(t, len(page.Records), 100)
		all = append(all, page.Records...)
		if len(page.Records) == 0 {
			assert.Equal(t, cursor, page.Next, "an empty page keeps the cursor")
		}
		cursor = page.Next
		if !page.More {
			return all, cursor, pages
		}
		require.Less(t, pages, 1000, "pull does not end")
	}
}

func TestPullPagesEqualWriteDates(t *testing.T) {
	srv, a := start(t, standin.Options{}, func(c *external.Config) { c.PageSize = 100 })
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	srv.Freeze(t0)
	const n = 2000
	want := map[int]bool{}
	for i := range n {
		id, err := srv.Create(standin.Partner, map[string]any{"name": fmt.Sprintf("Person %04d", i), "is_registrant": true})
		require.NoError(t, err)
		want[id] = true
	}
	// Not a registrant: never pulled.
	_, err := srv.Create(standin.Partner, map[string]any{"name": "A company"})
	require.NoError(t, err)

	recs, cursor, pages := pullAll(t, a, "", 0)
	assert.Len(t, recs, n)
	assert.Equal(t, n/100+1, pages, "20 full pages and a last empty one")
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.ExternalID]++
		assert.Equal(t, "2026-01-02T03:04:05.000Z", r.UpdatedAt)
		assert.Equal(t, dc.Individual, r.Type)
	}
	for id := range want {
		assert.Equal(t, 1, seen[fmt.Sprint(id)], "record %d pulled exactly once", id)
	}

	// An edit in OpenSPP, a second later, is the next pull's only record,
	// even for a record with a lower id than the cursor's.
	first := recs[0].ExternalID
	srv.Advance(time.Second)
	require.NoError(t, srv.Write(standin.Partner, []int{atoi(t, first)}, map[string]any{"phone": "+254700000001"}))
	page, err := a.Pull(ctx, cursor, 0)
	require.NoError(t, err)
	require.Len(t, page.Records, 1)
	assert.Equal(t, first, page.Records[0].ExternalID)
	assert.Equal(t, "+254700000001", page.Records[0].Data["phone"])
	assert.False(t, page.More)

	// An edit in the same second as the last pull's records is seen too.
	last := page.Records[0].ExternalID
	require.NoError(t, srv.Write(standin.Partner, []int{atoi(t, recs[n-1].ExternalID)}, map[string]any{"email": "x@example.org"}))
	page2, err := a.Pull(ctx, page.Next, 0)
	require.NoError(t, err)
	if atoi(t, recs[n-1].ExternalID) > atoi(t, last) {
		require.Len(t, page2.Records, 1)
		assert.Equal(t, "x@example.org", page2.Records[0].Data["email"])
	}
	page3, err := a.Pull(ctx, page2.Next, 0)
	require.NoError(t, err)
	assert.Empty(t, page3.Records)
}

func TestPullHousehold(t *testing.T) {
	srv, a := start(t, standin.Options{}, nil)
	s := store{}
	batch := household(s)
	batch[1].Data["birthdate"] = "1990-04-01"
	batch[1].Data["phone"] = "+254700000002"
	res := a.Push(ctx, batch, s.lookup)
	requireOK(t, res)
	ext := map[string]string{}
	for _, r := range res {
		ext[r.GUID] = r.ExternalID
	}
	// A registrant made in OpenSPP has no guid.
	local, err := srv.Create(standin.Partner, map[string]any{"name": "Walk-in", "is_registrant": true, "gender": "Male"})
	require.NoError(t, err)

	recs, _, _ := pullAll(t, a, "", 0)
	require.Len(t, recs, 5)
	by := map[string]*external.Record{}
	for _, r := range recs {
		by[r.ExternalID] = r
	}
	g := by[ext["g1"]]
	require.NotNil(t, g)
	assert.Equal(t, "g1", g.GUID)
	assert.Equal(t, dc.Group, g.Type)
	assert.Equal(t, []string{ext["p1"], ext["p2"], ext["p3"]}, g.MemberExternalIDs)
	assert.Equal(t, map[string]any{"name": "Mwangi household"}, g.Data)

	p := by[ext["p1"]]
	assert.Equal(t, "p1", p.GUID)
	assert.Equal(t, dc.Individual, p.Type)
	assert.Empty(t, p.MemberExternalIDs)
	assert.Equal(t, map[string]any{"name": "Amina Mwangi", "givenName": "Amina", "familyName": "Mwangi", "gender": "Female",
		"birthdate": "1990-04-01", "phone": "+254700000002", "nationalId": "100001"}, p.Data)
	_, err = dc.ParseTime(p.UpdatedAt)
	assert.NoError(t, err)

	w := by[fmt.Sprint(local)]
	require.NotNil(t, w)
	assert.Empty(t, w.GUID)
	assert.Equal(t, map[string]any{"name": "Walk-in", "gender": "Male"}, w.Data)

	// A member removed in OpenSPP (through the group) no longer maps back.
	ms, err := srv.SearchRead(standin.Membership, []any{[]any{"individual", "=", atoi(t, ext["p3"])}}, "id")
	require.NoError(t, err)
	require.NoError(t, srv.Write(standin.Partner, []int{atoi(t, ext["g1"])}, map[string]any{
		"group_membership_ids": []any{[]any{2, ms[0]["id"], 0}}}))
	recs, _, _ = pullAll(t, a, "", 0)
	for _, r := range recs {
		if r.ExternalID == ext["g1"] {
			assert.Equal(t, []string{ext["p1"], ext["p2"]}, r.MemberExternalIDs)
		}
	}
}

func TestPullErrors(t *testing.T) {
	srv, a := start(t, standin.Options{}, nil)
	for _, c := range []string{"nonsense", "2026-01-02 03:04:05", "2026-01-02|4", "x|1"} {
		_, err := a.Pull(ctx, c, 10)
		assert.Equal(t, external.ECONFIG, external.Code(err), c)
	}
	srv.DropNext(1, standin.Partner, "search_read")
	_, err := a.Pull(ctx, "", 10)
	assert.Equal(t, external.ENETWORK, external.Code(err))
	assert.True(t, external.IsRetryable(err))
	page, err := a.Pull(ctx, "", 10)
	require.NoError(t, err)
	assert.Empty(t, page.Records)
	assert.Empty(t, page.Next)
	assert.False(t, page.More)
}
