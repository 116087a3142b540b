// Package payload encodes and decodes the opaque payloads in which the
// stores keep events, entities, entity records, audit entries and device
// reports.
//
// A payload is a header of two bytes, the format version and then flags
// telling which maps and slices were nil (which MessagePack cannot tell from
// empty ones), followed by the msgp encoding of the value. The fields that
// are not part of the msgp encoding (Event.LSeq, EntityRecord.Rev and
// AuditEntry.ID) are the stores' clear keys: the callers set them.
package payload

import (
	"github.com/tinylib/msgp/msgp"

	dc "github.com/datacollect/datacollect"
)

// Version is the format version, the first byte of every payload.
const Version = 1

// Flags of the payload header. Their meaning depends on the type encoded.
const (
	// NilData is set when Event.Data, Entity.Data or
	// EntityRecord.Current.Data was nil.
	NilData = 1 << 0
	// NilMembers is set when Entity.MemberIDs or
	// EntityRecord.Current.MemberIDs was nil.
	NilMembers = 1 << 1
	// NilConfirmedData is set when EntityRecord.Confirmed.Data was nil.
	NilConfirmedData = 1 << 2
	// NilConfirmedMembers is set when EntityRecord.Confirmed.MemberIDs was
	// nil.
	NilConfirmedMembers = 1 << 3
)

// entityFlags returns the flags data and members that tell whether the maps
// and slices of e are nil; none for a nil e.
func entityFlags(e *dc.Entity, data, members byte) byte {
	var f byte
	if e != nil {
		if e.Data == nil {
			f |= data
		}
		if e.MemberIDs == nil {
			f |= members
		}
	}
	return f
}

// fixEntity restores the nil maps and slices of e from the flags f. A
// MemberIDs that was empty (not nil) comes back as []string{}.
func fixEntity(e *dc.Entity, f, data, members byte) {
	if e == nil {
		return
	}
	if f&data != 0 {
		e.Data = nil
	}
	if f&members != 0 {
		e.MemberIDs = nil
	} else if e.MemberIDs == nil {
		e.MemberIDs = []string{}
	}
}

// AppendEvent appends the payload of e to buf and returns the extended
// buffer.
func AppendEvent(buf []byte, e *dc.Event) ([]byte, error) {
	var f byte
	if e.Data == nil {
		f |= NilData
	}
	return e.MarshalMsg(append(buf, Version, f))
}

// AppendEntity appends the payload of e to buf and returns the extended
// buffer.
func AppendEntity(buf []byte, e *dc.Entity) ([]byte, error) {
	return e.MarshalMsg(append(buf, Version, entityFlags(e, NilData, NilMembers)))
}

// AppendRecord appends the payload of r to buf and returns the extended
// buffer.
func AppendRecord(buf []byte, r *dc.EntityRecord) ([]byte, error) {
	f := entityFlags(r.Current, NilData, NilMembers) |
		entityFlags(r.Confirmed, NilConfirmedData, NilConfirmedMembers)
	return r.MarshalMsg(append(buf, Version, f))
}

// AppendAudit appends the payload of a to buf and returns the extended
// buffer.
func AppendAudit(buf []byte, a *dc.AuditEntry) ([]byte, error) {
	return a.MarshalMsg(append(buf, Version, 0))
}

// AppendDeviceReport appends the payload of r to buf and returns the
// extended buffer.
func AppendDeviceReport(buf []byte, r *dc.DeviceReport) ([]byte, error) {
	return r.MarshalMsg(append(buf, Version, 0))
}

// split checks the header of the payload b and returns its flags and its
// msgp encoding.
func split(b []byte) (byte, []byte, error) {
	if len(b) < 2 || b[0] != Version {
		return 0, nil, dc.Errorf(dc.ESTORE, "stored record has an unknown format")
	}
	// The generated decoders allocate as many elements as a header claims:
	// check first that the encoding holds them all, so that a corrupt
	// header cannot exhaust memory.
	if _, err := msgp.Skip(b[2:]); err != nil {
		return 0, nil, dc.Errorf(dc.ESTORE, "stored record is corrupt: %v", err)
	}
	return b[1], b[2:], nil
}

// DecodeEvent decodes the payload of an event. The error, if any, has the
// code ESTORE; LSeq is left zero and Seq is as encoded.
func DecodeEvent(b []byte) (*dc.Event, error) {
	f, b, err := split(b)
	if err != nil {
		return nil, err
	}
	e := new(dc.Event)
	if _, err := e.UnmarshalMsg(b); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "stored event is corrupt: %v", err)
	}
	if f&NilData != 0 {
		e.Data = nil
	}
	return e, nil
}

// DecodeEntity decodes the payload of an entity. The error, if any, has the
// code ESTORE. A MemberIDs that was not nil comes back non-nil, even when
// empty.
func DecodeEntity(b []byte) (*dc.Entity, error) {
	f, b, err := split(b)
	if err != nil {
		return nil, err
	}
	e := new(dc.Entity)
	if _, err := e.UnmarshalMsg(b); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "stored entity is corrupt: %v", err)
	}
	fixEntity(e, f, NilData, NilMembers)
	return e, nil
}

// DecodeRecord decodes the payload of an entity record. The error, if any,
// has the code ESTORE; Rev is left zero. The MemberIDs of Current and
// Confirmed that were not nil come back non-nil, even when empty.
func DecodeRecord(b []byte) (*dc.EntityRecord, error) {
	f, b, err := split(b)
	if err != nil {
		return nil, err
	}
	r := new(dc.EntityRecord)
	if _, err := r.UnmarshalMsg(b); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "stored entity is corrupt: %v", err)
	}
	fixEntity(r.Current, f, NilData, NilMembers)
	fixEntity(r.Confirmed, f, NilConfirmedData, NilConfirmedMembers)
	return r, nil
}

// DecodeAudit decodes the payload of an audit entry. The error, if any, has
// the code ESTORE; ID is left zero, and empty Changes come back nil, as the
// reference stores return them.
func DecodeAudit(b []byte) (*dc.AuditEntry, error) {
	_, b, err := split(b)
	if err != nil {
		return nil, err
	}
	a := new(dc.AuditEntry)
	if _, err := a.UnmarshalMsg(b); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "stored audit entry is corrupt: %v", err)
	}
	if len(a.Changes) == 0 {
		a.Changes = nil
	}
	return a, nil
}

// DecodeDeviceReport decodes the payload of a device report. The error, if
// any, has the code ESTORE.
func DecodeDeviceReport(b []byte) (*dc.DeviceReport, error) {
	_, b, err := split(b)
	if err != nil {
		return nil, err
	}
	r := new(dc.DeviceReport)
	if _, err := r.UnmarshalMsg(b); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "stored device report is corrupt: %v", err)
	}
	return r, nil
}
