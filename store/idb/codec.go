//go:build js && wasm

package idbstore

import (
	dc "github.com/datacollect/datacollect"
)

// A record's payload p is opaque to IndexedDB: a header of two bytes (the
// format version, then flags telling which maps and slices were nil, which
// MessagePack cannot tell from empty ones) and the msgp encoding of the
// value. The fields LSeq, Rev and AuditEntry.ID are not in the payload:
// they are the records' clear keys.
const payloadV1 = 1

// Flags of the payload header.
const (
	nilData       = 1 << 0 // Event.Data, EntityRecord.Current.Data
	nilMembers    = 1 << 1 // EntityRecord.Current.MemberIDs
	nilConfData   = 1 << 2 // EntityRecord.Confirmed.Data
	nilConfMember = 1 << 3 // EntityRecord.Confirmed.MemberIDs
)

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

func appendEvent(buf []byte, e *dc.Event) ([]byte, error) {
	var f byte
	if e.Data == nil {
		f |= nilData
	}
	return e.MarshalMsg(append(buf, payloadV1, f))
}

func appendRecord(buf []byte, r *dc.EntityRecord) ([]byte, error) {
	f := entityFlags(r.Current, nilData, nilMembers) | entityFlags(r.Confirmed, nilConfData, nilConfMember)
	return r.MarshalMsg(append(buf, payloadV1, f))
}

func appendAudit(buf []byte, a *dc.AuditEntry) ([]byte, error) {
	return a.MarshalMsg(append(buf, payloadV1, 0))
}

func payload(b []byte) (byte, []byte, error) {
	if len(b) < 2 || b[0] != payloadV1 {
		return 0, nil, dc.Errorf(dc.ESTORE, "stored record has an unknown format")
	}
	return b[1], b[2:], nil
}

func decodeEvent(b []byte, lseq int64) (*dc.Event, error) {
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
	e.LSeq = lseq
	return e, nil
}

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

func decodeRecord(b []byte, rev int64) (*dc.EntityRecord, error) {
	f, b, err := payload(b)
	if err != nil {
		return nil, err
	}
	r := new(dc.EntityRecord)
	if _, err := r.UnmarshalMsg(b); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "stored entity is corrupt: %v", err)
	}
	fixEntity(r.Current, f, nilData, nilMembers)
	fixEntity(r.Confirmed, f, nilConfData, nilConfMember)
	r.Rev = rev
	return r, nil
}

func decodeAudit(b []byte, id int64) (*dc.AuditEntry, error) {
	_, b, err := payload(b)
	if err != nil {
		return nil, err
	}
	a := new(dc.AuditEntry)
	if _, err := a.UnmarshalMsg(b); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "stored audit entry is corrupt: %v", err)
	}
	if len(a.Changes) == 0 {
		a.Changes = nil // as the reference store returns them
	}
	a.ID = id
	return a, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends the valid UTF-8 string s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
