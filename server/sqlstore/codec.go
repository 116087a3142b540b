//go:build !js

package sqlstore

import (
	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/internal/payload"
)

// Payloads are encoded by package payload. Event.LSeq and AuditEntry.ID are
// not in them; Event.Seq is, and also in the clear column seq, which wins.
// A device's payload is its report; its other fields are columns.

func encodeEvent(e *dc.Event) ([]byte, error) {
	return payload.AppendEvent(make([]byte, 0, 256), e)
}

func encodeEntity(e *dc.Entity) ([]byte, error) {
	return payload.AppendEntity(make([]byte, 0, 256), e)
}

func encodeAudit(a *dc.AuditEntry) ([]byte, error) {
	return payload.AppendAudit(make([]byte, 0, 256), a)
}

// decodeEvent decodes an event of sequence number seq.
func decodeEvent(seq int64, b []byte) (e *dc.Event, err error) {
	if e, err = payload.DecodeEvent(b); e != nil {
		e.Seq = seq
	}
	return e, err
}

// decodeEntity decodes an entity; the version column is not needed (the
// payload has it).
func decodeEntity(_ int64, b []byte) (*dc.Entity, error) {
	return payload.DecodeEntity(b)
}

// decodeAudit decodes the audit entry of store id id.
func decodeAudit(id int64, b []byte) (a *dc.AuditEntry, err error) {
	if a, err = payload.DecodeAudit(b); a != nil {
		a.ID = id
	}
	return a, err
}

func encodeDeviceReport(r *dc.DeviceReport) ([]byte, error) {
	return payload.AppendDeviceReport(make([]byte, 0, 128), r)
}

func decodeDeviceReport(b []byte) (*dc.DeviceReport, error) {
	return payload.DecodeDeviceReport(b)
}
