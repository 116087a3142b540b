package payload

import (
	"testing"

	dc "github.com/datacollect/datacollect"

	"github.com/datacollect/datacollect/internal/fuzzcheck"
)

// codec is one payload type's decoder and encoder, over any.
type codec struct {
	name   string
	decode func([]byte) (any, error)
	encode func(any) ([]byte, error)
}

var codecs = []codec{
	{"event", func(b []byte) (any, error) { return DecodeEvent(b) },
		func(v any) ([]byte, error) { return AppendEvent(nil, v.(*dc.Event)) }},
	{"entity", func(b []byte) (any, error) { return DecodeEntity(b) },
		func(v any) ([]byte, error) { return AppendEntity(nil, v.(*dc.Entity)) }},
	{"record", func(b []byte) (any, error) { return DecodeRecord(b) },
		func(v any) ([]byte, error) { return AppendRecord(nil, v.(*dc.EntityRecord)) }},
	{"audit", func(b []byte) (any, error) { return DecodeAudit(b) },
		func(v any) ([]byte, error) { return AppendAudit(nil, v.(*dc.AuditEntry)) }},
	{"device report", func(b []byte) (any, error) { return DecodeDeviceReport(b) },
		func(v any) ([]byte, error) { return AppendDeviceReport(nil, v.(*dc.DeviceReport)) }},
}

// FuzzDecode decodes arbitrary bytes with every payload decoder: it must
// never panic, refuse with ESTORE only, and what it accepts must encode and
// decode again to a fixed point (the first pass may turn an explicit empty
// optional map into a missing one, as the reference stores do).
func FuzzDecode(f *testing.F) {
	ent := &dc.Entity{GUID: "g", Type: dc.Group, Version: 2, Data: nestedData(), MemberIDs: []string{"a", "b"}}
	seeds := []any{
		&dc.Event{GUID: "e", EntityGUID: "g", Type: "create-group", Data: nestedData(), Timestamp: "2026-11-25T08:00:00.000Z", Seq: 3},
		&dc.Event{GUID: "e"},
		ent,
		&dc.Entity{GUID: "g"},
		&dc.EntityRecord{GUID: "g", Current: ent, Confirmed: &dc.Entity{GUID: "g", MemberIDs: []string{}}, Pending: []string{"e"}},
		&dc.AuditEntry{GUID: "a", Action: "update", Changes: []dc.FieldChange{{Field: "name", Old: "x", New: int64(1)}}},
		&dc.DeviceReport{LastSyncTime: "2026-11-25T08:00:00Z", Pending: 1, Metrics: dc.SyncMetrics{SyncDuration: 5}},
	}
	kinds := []uint8{0, 0, 1, 1, 2, 3, 4}
	for i, v := range seeds {
		b, err := codecs[kinds[i]].encode(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(kinds[i], b)
	}
	f.Add(uint8(0), []byte{Version, 0xff, 0x80})
	f.Add(uint8(2), []byte{Version})
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		c := codecs[int(kind)%len(codecs)]
		v1, err := c.decode(b)
		if err != nil {
			if dc.ErrorCode(err) != dc.ESTORE {
				t.Fatalf("decode %s %q: %v, want ESTORE", c.name, b, err)
			}
			return
		}
		v2 := roundTrip(t, c, v1)
		v3 := roundTrip(t, c, v2)
		if !fuzzcheck.Same(v1, v2, true) || !fuzzcheck.Same(v2, v3, false) {
			t.Fatalf("%s %q does not round-trip:\n%#v\n%#v\n%#v", c.name, b, v1, v2, v3)
		}
	})
}

func roundTrip(t *testing.T, c codec, v any) any {
	t.Helper()
	b, err := c.encode(v)
	if err != nil {
		t.Fatalf("encode decoded %s %#v: %v", c.name, v, err)
	}
	v2, err := c.decode(b)
	if err != nil {
		t.Fatalf("decode encoded %s %q: %v", c.name, b, err)
	}
	return v2
}
