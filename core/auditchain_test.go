package core

import (
	"testing"

	"github.com/stretchr/testify/assert"

	dc "github.com/datacollect/datacollect"
)

func auditEntry() *dc.AuditEntry {
	return &dc.AuditEntry{GUID: "a1", Timestamp: "2026-11-25T10:00:00.000Z", UserID: "u1", Action: "update",
		EventGUID: "e1", EntityGUID: "p1", Changes: []dc.FieldChange{
			{Field: "age", Old: float64(3), New: int64(4)},
			{Field: "tags", Old: nil, New: []any{"x", map[string]any{"b": true, "a": nil}}},
		}}
}

// TestAuditHash: the hash is hex SHA-256, deterministic, independent of
// the number types and of ID and Hash, and changes with every field, with
// the sequence number and with the previous hash.
func TestAuditHash(t *testing.T) {
	a := auditEntry()
	h := AuditHash("", a, 1)
	assert.Len(t, h, 64)
	assert.Equal(t, h, AuditHash("", auditEntry(), 1))

	same := auditEntry()
	same.ID, same.Hash = 7, "whatever"
	same.Changes[0].Old, same.Changes[0].New = int64(3), float64(4)
	assert.Equal(t, h, AuditHash("", same, 1), "ID, Hash and number types do not count")

	seen := map[string]string{"": h}
	add := func(name, got string) {
		t.Helper()
		for other, v := range seen {
			assert.NotEqual(t, v, got, "%s hashes as %s", name, other)
		}
		seen[name] = got
	}
	add("prev", AuditHash(h, a, 1))
	add("seq", AuditHash("", a, 2))
	for name, change := range map[string]func(a *dc.AuditEntry){
		"guid":       func(a *dc.AuditEntry) { a.GUID = "a2" },
		"timestamp":  func(a *dc.AuditEntry) { a.Timestamp = "2026-11-25T10:00:00.001Z" },
		"user":       func(a *dc.AuditEntry) { a.UserID = "u2" },
		"action":     func(a *dc.AuditEntry) { a.Action = "create" },
		"event":      func(a *dc.AuditEntry) { a.EventGUID = "e2" },
		"entity":     func(a *dc.AuditEntry) { a.EntityGUID = "p2" },
		"field":      func(a *dc.AuditEntry) { a.Changes[0].Field = "ages" },
		"old":        func(a *dc.AuditEntry) { a.Changes[0].Old = "3" },
		"new":        func(a *dc.AuditEntry) { a.Changes[1].New = []any{"x"} },
		"nested":     func(a *dc.AuditEntry) { a.Changes[1].New.([]any)[1].(map[string]any)["a"] = false },
		"no changes": func(a *dc.AuditEntry) { a.Changes = nil },
		"device":     func(a *dc.AuditEntry) { a.DeviceID = "d1" },
		"status":     func(a *dc.AuditEntry) { a.Status = dc.AuditOK },
		"entities":   func(a *dc.AuditEntry) { a.Entities = 1 },
		// Moving text between adjacent fields must change the hash.
		"shifted": func(a *dc.AuditEntry) { a.UserID, a.Action = "u1u", "pdate" },
	} {
		b := auditEntry()
		change(b)
		add(name, AuditHash("", b, 1))
	}
}

// TestAuditHashGolden pins the encoding: a change to it breaks every
// stored chain, so it must be a new version, never an edit.
func TestAuditHashGolden(t *testing.T) {
	assert.Equal(t, "aca27b8298975cd5f43aabf7b5039858d2d697cfb29c18331b7cbeb8f3efdc21", AuditHash("", auditEntry(), 1))
}
