package core

import (
	"crypto/sha256"
	"encoding/hex"

	dc "github.com/datacollect/datacollect"
)

// The audit chain: the server's audit entries of an app form a hash chain,
// so that an entry altered, inserted or removed after the fact shows.
//
//	hash(first) = hex(SHA-256("datacollect/audit/v1\x00" || str("") || entry(first)))
//	hash(e)     = hex(SHA-256("datacollect/audit/v1\x00" || str(hash(prev)) || entry(e)))
//
// The chain's order is the order of record: the order in which the server
// stored the entries, which is also the order in which pulls deliver them
// (by the sequence number of their event, then by insertion), because the
// server stores an event's entries right after the event, under the app's
// lock. Each entry's Hash commits to every entry before it, so the hash of
// the last entry (the app's audit head) commits to the whole log, and a
// device that pulled the log can check it against its own recomputation.
//
// entry(e) is a canonical, unambiguous encoding of the entry: the sequence
// number of its event, then GUID, Timestamp, UserID, Action, EventGUID,
// EntityGUID, the Changes in order (Field, Old, New), and DeviceID,
// Entities, Events, DurationMs, Status and Error; every value typed and
// length-prefixed, map keys sorted, numbers as float64 (see EventHash).
// ID (the store's row number) and Hash itself are left out.

// auditHashV1 separates this encoding from any other use of SHA-256.
const auditHashV1 = "datacollect/audit/v1\x00"

// AuditHash returns the hash of audit entry a, of the event with sequence
// number seq, chained to prev (the hash of the previous entry in hex, ""
// for an app's first entry): 64 lower-case hex digits.
func AuditHash(prev string, a *dc.AuditEntry, seq int64) string {
	b := make([]byte, 0, 256)
	b = append(b, auditHashV1...)
	b = appendString(b, prev)
	b = appendInt(b, seq)
	b = appendString(b, a.GUID)
	b = appendString(b, a.Timestamp)
	b = appendString(b, a.UserID)
	b = appendString(b, a.Action)
	b = appendString(b, a.EventGUID)
	b = appendString(b, a.EntityGUID)
	b = appendLen(append(b, tagArray), len(a.Changes))
	for _, c := range a.Changes {
		b = appendString(b, c.Field)
		b = appendValue(b, c.Old)
		b = appendValue(b, c.New)
	}
	b = appendString(b, a.DeviceID)
	b = appendInt(b, int64(a.Entities))
	b = appendInt(b, int64(a.Events))
	b = appendInt(b, a.DurationMs)
	b = appendString(b, a.Status)
	b = appendString(b, a.Error)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
