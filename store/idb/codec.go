//go:build js && wasm

package idbstore

import (
	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/internal/payload"
)

// A record's payload is opaque to IndexedDB; package payload encodes it.
// The fields LSeq, Rev and AuditEntry.ID are not in the payload: they are
// the records' clear keys.

func appendEvent(buf []byte, e *dc.Event) ([]byte, error) {
	return payload.AppendEvent(buf, e)
}

func appendRecord(buf []byte, r *dc.EntityRecord) ([]byte, error) {
	return payload.AppendRecord(buf, r)
}

func appendAudit(buf []byte, a *dc.AuditEntry) ([]byte, error) {
	return payload.AppendAudit(buf, a)
}

func decodeEvent(b []byte, lseq int64) (e *dc.Event, err error) {
	if e, err = payload.DecodeEvent(b); e != nil {
		e.LSeq = lseq
	}
	return e, err
}

func decodeRecord(b []byte, rev int64) (r *dc.EntityRecord, err error) {
	if r, err = payload.DecodeRecord(b); r != nil {
		r.Rev = rev
	}
	return r, err
}

func decodeAudit(b []byte, id int64) (a *dc.AuditEntry, err error) {
	if a, err = payload.DecodeAudit(b); a != nil {
		a.ID = id
	}
	return a, err
}

// record decodes the entity record j of r (gathered by collectEntities):
// the payload, then the duplicate key (from the record's clear field, or
// from its ciphertext in an encrypted store).
func (r *records) record(j int) (*dc.EntityRecord, error) {
	rec, err := decodeRecord(r.payload(j), r.keys[j])
	if rec != nil && rec.Current != nil && j < len(r.strs) {
		rec.Current.DupKey = r.strs[j]
	}
	return rec, err
}
