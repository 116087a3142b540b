package core

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"

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
	b = auditString(b, prev)
	b = auditInt(b, seq)
	b = auditString(b, a.GUID)
	b = auditString(b, a.Timestamp)
	b = auditString(b, a.UserID)
	b = auditString(b, a.Action)
	b = auditString(b, a.EventGUID)
	b = auditString(b, a.EntityGUID)
	b = auditLen(append(b, 'a'), len(a.Changes))
	for _, c := range a.Changes {
		b = auditString(b, c.Field)
		b = auditValue(b, c.Old)
		b = auditValue(b, c.New)
	}
	b = auditString(b, a.DeviceID)
	b = auditInt(b, int64(a.Entities))
	b = auditInt(b, int64(a.Events))
	b = auditInt(b, a.DurationMs)
	b = auditString(b, a.Status)
	b = auditString(b, a.Error)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// The encoding's tags are those of EventHash's, written here again so that
// the two encodings can evolve apart.

func auditLen(b []byte, n int) []byte { return binary.BigEndian.AppendUint64(b, uint64(n)) }

func auditInt(b []byte, n int64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 'i'), uint64(n))
}

func auditString(b []byte, s string) []byte {
	return append(auditLen(append(b, 's'), len(s)), s...)
}

func auditNumber(b []byte, f float64) []byte {
	if f == 0 {
		f = 0 // -0 and 0 are one number in JSON
	}
	return binary.BigEndian.AppendUint64(append(b, 'd'), math.Float64bits(f))
}

// auditValue encodes a JSON-like value: numbers of every Go type as
// float64 (what a MessagePack or JSON decoder yields differs), nil
// containers as nil, map keys sorted.
func auditValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 'n')
	case bool:
		if x {
			return append(b, 't')
		}
		return append(b, 'f')
	case string:
		return auditString(b, x)
	case float64:
		return auditNumber(b, x)
	case float32:
		return auditNumber(b, float64(x))
	case int:
		return auditNumber(b, float64(x))
	case int8:
		return auditNumber(b, float64(x))
	case int16:
		return auditNumber(b, float64(x))
	case int32:
		return auditNumber(b, float64(x))
	case int64:
		return auditNumber(b, float64(x))
	case uint:
		return auditNumber(b, float64(x))
	case uint8:
		return auditNumber(b, float64(x))
	case uint16:
		return auditNumber(b, float64(x))
	case uint32:
		return auditNumber(b, float64(x))
	case uint64:
		return auditNumber(b, float64(x))
	case map[string]any:
		if x == nil {
			return append(b, 'n')
		}
		b = auditLen(append(b, 'm'), len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = auditString(b, k)
			b = auditValue(b, x[k])
		}
		return b
	case []any:
		if x == nil {
			return append(b, 'n')
		}
		b = auditLen(append(b, 'a'), len(x))
		for _, e := range x {
			b = auditValue(b, e)
		}
		return b
	case []string:
		b = auditLen(append(b, 'a'), len(x))
		for _, e := range x {
			b = auditString(b, e)
		}
		return b
	default:
		return auditString(append(b, 'x'), fmt.Sprintf("%T:%v", v, v))
	}
}
