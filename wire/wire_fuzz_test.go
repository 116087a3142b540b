package wire

import (
	"testing"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/internal/fuzzcheck"
)

// requestMessages returns a fresh value of each request message the server
// decodes, in the order FuzzUnmarshal's kind selects them.
func requestMessages() []Message {
	return []Message{new(dc.PushRequest), new(dc.LoginRequest), new(dc.DeviceReport)}
}

// FuzzUnmarshal decodes arbitrary bytes as every request message, in
// MessagePack and JSON: it must never panic, and whatever it accepts must
// survive a marshal and unmarshal unchanged.
func FuzzUnmarshal(f *testing.F) {
	seeds := []Message{
		&dc.PushRequest{Events: []*dc.Event{{
			GUID: "e1", EntityGUID: "p1", Type: "create-individual", Timestamp: "2026-11-25T08:00:00.000Z",
			UserID: "u1", SyncLevel: dc.Local, Data: map[string]any{"name": "Amina", "age": int64(30), "tags": []any{"a", 1.5, nil, true}},
		}}},
		&dc.PushRequest{},
		&dc.LoginRequest{AppID: "demo", Email: "demo@example.org", Password: "demo-password"},
		&dc.DeviceReport{LastSyncTime: "2026-11-25T08:00:00Z", Pending: 2, Cursor: 7, Metrics: dc.SyncMetrics{SyncDuration: 12}},
	}
	kinds := []uint8{0, 0, 1, 2}
	for i, m := range seeds {
		for _, ct := range []string{MsgPack, JSON} {
			b, err := Marshal(ct, m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(kinds[i], ct == JSON, b)
		}
	}
	f.Add(uint8(0), true, []byte(`{"events":[null]}`))
	f.Add(uint8(1), true, []byte(`{"appId":"a"} {}`))
	f.Add(uint8(2), false, []byte{0x80, 0xc1})
	f.Fuzz(func(t *testing.T, kind uint8, isJSON bool, b []byte) {
		ct := MsgPack
		if isJSON {
			ct = JSON
		}
		m := requestMessages()[int(kind)%3]
		if err := Unmarshal(ct, b, m); err != nil {
			if dc.ErrorCode(err) != dc.EINVALID {
				t.Fatalf("unmarshal %q: %v, want EINVALID", b, err)
			}
			return
		}
		again, err := Marshal(ct, m)
		if err != nil {
			// JSON cannot encode NaN or infinities that MessagePack carries;
			// JSON input never yields them.
			if !isJSON {
				return
			}
			t.Fatalf("marshal what %q decoded to: %v", b, err)
		}
		m2 := requestMessages()[int(kind)%3]
		if err := Unmarshal(ct, again, m2); err != nil {
			t.Fatalf("unmarshal re-marshalled %q: %v", again, err)
		}
		// MessagePack (msgp) encodes a nil map or slice as an empty one;
		// every reader treats both alike.
		if !fuzzcheck.Same(m, m2, !isJSON) {
			t.Fatalf("round trip of %q changed\n%#v\nto\n%#v", b, m, m2)
		}
	})
}

// TestUnmarshalHugeHeaders: a header claiming more elements than the body
// holds is refused before anything is allocated (found by FuzzUnmarshal).
func TestUnmarshalHugeHeaders(t *testing.T) {
	for _, b := range []string{
		"\x81\xa6events\xdd\xff\xff\xff\xff",
		"\x81\xa6events\x91\x81\xa4data\xdf\xff\xff\xff\xff",
		"\x81\xa6events\x91\x81\xa4data\x81\xa1a\xdd\xff\xff\xff\xff",
		"\xdf\xff\xff\xff\xff",
	} {
		err := Unmarshal(MsgPack, []byte(b), new(dc.PushRequest))
		if dc.ErrorCode(err) != dc.EINVALID {
			t.Errorf("%q: %v, want EINVALID", b, err)
		}
	}
}
