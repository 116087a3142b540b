//go:build !js

package standin

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFailNext(t *testing.T) {
	s := Start(t, Options{Seed: true})
	c := newClient(t, s)
	s.FailNext(2, Partner, "create", "")
	for range 2 {
		_, err := c.execErr(Partner, "create", []any{map[string]any{"name": "A"}}, nil)
		require.NotNil(t, err)
		assert.Equal(t, 200, err.Code)
		assert.Equal(t, ErrSerializationFailure, err.Data.Name)
	}
	// Other calls are not affected, and the third create succeeds.
	assert.Equal(t, 0, c.exec(Partner, "search_count", []any{[]any{}}, nil))
	c.create(Partner, map[string]any{"name": "A"})
	assert.Equal(t, 1, c.exec(Partner, "search_count", []any{[]any{}}, nil))
	assert.Equal(t, 3, s.CountCalls(Partner, "create"))

	// A session-expired answer has code 100.
	s.AddFault(Fault{Error: ErrSessionExpired, Code: 100, Times: 1})
	_, err := c.execErr(Partner, "search", []any{[]any{}}, nil)
	require.NotNil(t, err)
	assert.Equal(t, 100, err.Code)
	assert.Equal(t, "Odoo Session Expired", err.Message)

	// Faults on authenticate too; remove() takes a fault back.
	remove := s.AddFault(Fault{Method: "authenticate", Error: ErrAccessDenied})
	_, err = c.try("common", "authenticate", s.DB(), "admin", "admin", map[string]any{})
	require.NotNil(t, err)
	remove()
	assert.Equal(t, AdminUID, c.call("common", "authenticate", s.DB(), "admin", "admin", map[string]any{}))
}

func TestFailRateIsSeeded(t *testing.T) {
	run := func() []bool {
		s := Start(t, Options{RandSeed: 42})
		c := newClient(t, s)
		s.FailRate(0.3, "")
		var out []bool
		for range 100 {
			_, err := c.execErr(Partner, "search_count", []any{[]any{}}, nil)
			out = append(out, err != nil)
		}
		s.ClearFaults()
		_, err := c.execErr(Partner, "search_count", []any{[]any{}}, nil)
		assert.Nil(t, err)
		return out
	}
	a, b := run(), run()
	assert.Equal(t, a, b, "same seed, same failures")
	n := 0
	for _, failed := range a {
		if failed {
			n++
		}
	}
	assert.InDelta(t, 30, n, 15)
}

func TestDropAndLatency(t *testing.T) {
	s := Start(t, Options{Seed: true})
	c := newClient(t, s)

	s.DropNext(1, Partner, "search_read")
	_, _, err := c.post("object", "execute_kw", s.DB(), c.uid, s.Password(), Partner, "search_read", []any{[]any{}}, map[string]any{})
	require.Error(t, err, "the connection is closed without an answer")
	c.searchRead(Partner, []any{}, nil) // the next call works

	// Created, then the connection dies before the answer: the record exists.
	s.DropAfterNext(1, Partner, "create")
	_, _, err = c.post("object", "execute_kw", s.DB(), c.uid, s.Password(), Partner, "create",
		[]any{map[string]any{"name": "A", "x_datacollect_guid": "g-1"}}, map[string]any{})
	require.Error(t, err)
	rows := c.searchRead(Partner, []any{[]any{"x_datacollect_guid", "=", "g-1"}}, map[string]any{"fields": []any{"name"}})
	require.Len(t, rows, 1)
	calls := s.Calls()
	assert.Contains(t, calls[len(calls)-2].Outcome, "dropped before answering")

	s.SetLatency(150 * time.Millisecond)
	start := time.Now()
	c.exec(Partner, "search_count", []any{[]any{}}, nil)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	s.SetLatency(0)
	s.AddFault(Fault{Model: Partner, Method: "search", Delay: 100 * time.Millisecond, Times: 1})
	start = time.Now()
	c.exec(Partner, "search", []any{[]any{}}, nil)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
}

func TestConcurrentCalls(t *testing.T) {
	s := Start(t, Options{Seed: true})
	clients := make([]*client, 8)
	for i := range clients {
		clients[i] = newClient(t, s)
	}
	s.AddFault(Fault{Model: Partner, Method: "create", Error: ErrSerializationFailure, Rate: 0.2})
	var wg sync.WaitGroup
	for w, c := range clients {
		wg.Go(func() {
			for i := range 25 {
				c.execErr(Partner, "create", []any{map[string]any{"name": "W", "phone": string(rune('a'+w)) + string(rune('a'+i))}}, nil)
			}
		})
	}
	wg.Wait()
	s.ClearFaults()
	n, err := s.Count(Partner, nil)
	require.NoError(t, err)
	ok := 0
	for _, call := range s.Calls() {
		if call.Method == "create" && call.Outcome == "ok" {
			ok++
		}
	}
	assert.Equal(t, ok, n)
	rows, err := s.SearchRead(Partner, nil, "id")
	require.NoError(t, err)
	for i := 1; i < len(rows); i++ {
		assert.Equal(t, rows[i-1]["id"].(int)+1, rows[i]["id"], "ids increase without gaps")
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "openspp.json")
	s := Start(t, Options{Seed: true, DataFile: file})
	c := newClient(t, s)
	s.Freeze(mustTime(t, "2024-01-02 03:04:05"))
	head := c.idOf(MembershipKind, "name", "Head")
	nid := c.idOf(IDType, "name", "National ID")
	a := c.create(Partner, map[string]any{"name": "A", "birthdate": "2000-02-29", "gender": "Female",
		"reg_ids": []any{[]any{0, 0, map[string]any{"id_type": nid, "value": "N1"}}}})
	g := c.create(Partner, map[string]any{"name": "G", "is_group": true, "kind": c.idOf(GroupKind, "name", "Family"),
		"group_membership_ids": []any{[]any{0, 0, map[string]any{"individual": a, "kind": []any{head}}}}})
	before := c.searchRead(Partner, []any{}, map[string]any{"order": "id asc"})
	beforeM := c.searchRead(Membership, []any{}, nil)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	// A second server on the same file sees the same data and continues the ids.
	s2 := Start(t, Options{Seed: true, DataFile: file})
	c2 := newClient(t, s2)
	assert.Equal(t, before, c2.searchRead(Partner, []any{}, map[string]any{"order": "id asc"}))
	assert.Equal(t, beforeM, c2.searchRead(Membership, []any{}, nil))
	assert.Equal(t, 1, c2.exec(GroupKind, "search_count", []any{[]any{[]any{"name", "=", "Household"}}}, nil), "not seeded twice")
	b := c2.create(Partner, map[string]any{"name": "B"})
	assert.Equal(t, g+1, b)
	// The Head constraint still holds on loaded data.
	_, rerr := c2.execErr(Membership, "create", []any{map[string]any{"group": g, "individual": b, "kind": []any{head}}}, nil)
	require.NotNil(t, rerr)

	// A failed call changes nothing on disk either.
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	s3, err := Open(Options{DataFile: file})
	require.NoError(t, err)
	n, err := s3.Count(Partner, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	raw2, _ := os.ReadFile(file)
	assert.Equal(t, raw, raw2)

	_, err = Open(Options{DataFile: filepath.Join(dir, "missing-dir", "x.json")})
	assert.Error(t, err, "an unwritable data file is reported")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{"), 0o600))
	_, err = Open(Options{DataFile: filepath.Join(dir, "bad.json")})
	assert.Error(t, err)
}

func TestGoHelpers(t *testing.T) {
	s := Start(t, Options{Seed: true})
	assert.Equal(t, 3, s.ID(GroupKind, "Household"))
	id, err := s.Create(Partner, map[string]any{"name": "A"})
	require.NoError(t, err)
	require.NoError(t, s.Write(Partner, []int{id}, map[string]any{"phone": "1"}))
	rows, err := s.SearchRead(Partner, []any{[]any{"phone", "=", "1"}}, "name")
	require.NoError(t, err)
	assert.Equal(t, []map[string]any{{"id": id, "name": "A"}}, rows)
	_, err = s.Create(Partner, map[string]any{"nope": 1})
	var oe *Error
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, ErrValue, oe.Name)
	// unlink cascades to memberships and registrant IDs.
	g, err := s.Create(Partner, map[string]any{"name": "G", "is_group": true,
		"group_membership_ids": []any{[]any{0, 0, map[string]any{"individual": id}}}})
	require.NoError(t, err)
	_, err = s.Execute(Partner, "unlink", []any{[]int{g}}, nil)
	require.NoError(t, err)
	n, err := s.Count(Membership, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, n)

	fg, err := s.Execute(Partner, "fields_get", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "many2one", fg.(map[string]any)["kind"].(map[string]any)["type"])
}
