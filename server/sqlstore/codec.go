//go:build !js

package sqlstore

import (
	dc "github.com/datacollect/datacollect"
)

// A payload is a header of two bytes (the format version, then flags telling
// which maps and slices were nil, which MessagePack cannot tell from empty
// ones) and the msgp encoding of the value. Event.LSeq and AuditEntry.ID are
// not in it; Event.Seq is, and also in the clear column seq, which wins.
const payloadV1 = 1

// Flags of the payload header.
const (
	nilData    = 1 << 0 // Event.Data, Entity.Data
	nilMembers = 1 << 1 // Entity.MemberIDs
)

func encodeEvent(e *dc.Event) ([]byte, error) {
	var f byte
	if e.Data == nil {
		f |= nilData
	}
	return e.MarshalMsg(append(make([]byte, 0, 256), payloadV1, f))
}

func encodeEntity(e *dc.Entity) ([]byte, error) {
	var f byte
	if e.Data == nil {
		f |= nilData
	}
	if e.MemberIDs == nil {
		f |= nilMembers
	}
	return e.MarshalMsg(append(make([]byte, 0, 256), payloadV1, f))
}

func encodeAudit(a *dc.AuditEntry) ([]byte, error) {
	return a.MarshalMsg(append(make([]byte, 0, 256), payloadV1, 0))
}

func payload(b []byte) (byte, []byte, error) {
	if len(b) < 2 || b[0] != payloadV1 {
		return 0, nil, dc.Errorf(dc.ESTORE, "stored record has an unknown format")
	}
	return b[1], b[2:], nil
}

// decodeEvent decodes an event of sequence number seq.
func decodeEvent(seq int64, b []byte) (*dc.Event, error) {
	f, b, err := payload(b)
	if err != nil {
		return nil, err
	}
	e := new(dc.Event)
	if _, err := e.UnmarshalMsg(b); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "stored event is corrupt: %v", err)
	}
	if f&nilData != 0 {
		e.Data = nil
	}
	e.Seq = seq
	return e, nil
}

// decodeEntity decodes an entity; the version column is not needed (the
// payload has it).
func decodeEntity(_ int64, b []byte) (*dc.Entity, error) {
	f, b, err := payload(b)
	if err != nil {
		return nil, err
	}
	e := new(dc.Entity)
	if _, err := e.UnmarshalMsg(b); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "stored entity is corrupt: %v", err)
	}
	if f&nilData != 0 {
		e.Data = nil
	}
	if f&nilMembers != 0 {
		e.MemberIDs = nil
	} else if e.MemberIDs == nil {
		e.MemberIDs = []string{}
	}
	return e, nil
}

// decodeAudit decodes the audit entry of store id id.
func decodeAudit(id int64, b []byte) (*dc.AuditEntry, error) {
	_, b, err := payload(b)
	if err != nil {
		return nil, err
	}
	a := new(dc.AuditEntry)
	if _, err := a.UnmarshalMsg(b); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "stored audit entry is corrupt: %v", err)
	}
	if len(a.Changes) == 0 {
		a.Changes = nil // as the reference stores return them
	}
	a.ID = id
	return a, nil
}
