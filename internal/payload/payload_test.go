package payload

import (
	"reflect"
	"testing"

	dc "github.com/datacollect/datacollect"
)

func nestedData() map[string]any {
	return map[string]any{
		"name": "Ada",
		"age":  int64(36),
		"tags": []any{"a", "b"},
		"address": map[string]any{
			"city":  "Paris",
			"empty": map[string]any{},
			"list":  []any{map[string]any{"k": true}},
		},
	}
}

func checkHeader(t *testing.T, b []byte, flags byte) {
	t.Helper()
	if len(b) < 2 || b[0] != Version || b[1] != flags {
		t.Fatalf("header = % x, want %02x %02x", b[:min(len(b), 2)], Version, flags)
	}
}

func checkESTORE(t *testing.T, err error) {
	t.Helper()
	if err == nil || dc.ErrorCode(err) != dc.ESTORE {
		t.Fatalf("err = %v, want code %s", err, dc.ESTORE)
	}
}

func TestEventRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		data  map[string]any
		flags byte
	}{
		{"nil", nil, NilData},
		{"empty", map[string]any{}, 0},
		{"nested", nestedData(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &dc.Event{GUID: "e1", EntityGUID: "x1", Type: "create", Data: tc.data,
				Timestamp: "2024-01-01T00:00:00Z", UserID: "u", SyncLevel: dc.Synced, Seq: 7, BaseVersion: 3}
			prefix := []byte("pre")
			b, err := AppendEvent(prefix, e)
			if err != nil {
				t.Fatal(err)
			}
			if string(b[:3]) != "pre" {
				t.Fatalf("prefix lost: %q", b[:3])
			}
			checkHeader(t, b[3:], tc.flags)
			got, err := DecodeEvent(b[3:])
			if err != nil {
				t.Fatal(err)
			}
			if (got.Data == nil) != (tc.data == nil) {
				t.Fatalf("Data nil = %v, want %v", got.Data == nil, tc.data == nil)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("got %+v, want %+v", got, e)
			}
		})
	}
}

func TestEventLSeqNotEncoded(t *testing.T) {
	b, err := AppendEvent(nil, &dc.Event{GUID: "e", LSeq: 42})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.LSeq != 0 {
		t.Fatalf("LSeq = %d, want 0", got.LSeq)
	}
}

func TestEntityRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    map[string]any
		members []string
		flags   byte
	}{
		{"nil both", nil, nil, NilData | NilMembers},
		{"empty both", map[string]any{}, []string{}, 0},
		{"nil data", nil, []string{"m1", "m2"}, NilData},
		{"nil members", nestedData(), nil, NilMembers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &dc.Entity{GUID: "g", Type: dc.Group, Version: 4, Data: tc.data, MemberIDs: tc.members,
				ExternalID: "ext", LastUpdated: "t", SyncLevel: dc.Local, Deleted: true}
			b, err := AppendEntity(nil, e)
			if err != nil {
				t.Fatal(err)
			}
			checkHeader(t, b, tc.flags)
			got, err := DecodeEntity(b)
			if err != nil {
				t.Fatal(err)
			}
			if (got.Data == nil) != (tc.data == nil) || (got.MemberIDs == nil) != (tc.members == nil) {
				t.Fatalf("nil-ness differs: got %+v, want %+v", got, e)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("got %+v, want %+v", got, e)
			}
		})
	}
}

// A payload without the nil-members flag whose msgp has no memberIds comes
// back with an empty, non-nil MemberIDs.
func TestEntityMissingMembersBecomeEmpty(t *testing.T) {
	b, err := AppendEntity(nil, &dc.Entity{GUID: "g", Data: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	b[1] = 0 // clear the nil-members flag
	got, err := DecodeEntity(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.MemberIDs == nil || len(got.MemberIDs) != 0 {
		t.Fatalf("MemberIDs = %#v, want []string{}", got.MemberIDs)
	}
}

func entity(data map[string]any, members []string) *dc.Entity {
	return &dc.Entity{GUID: "g", Type: dc.Individual, Version: 2, Data: data, MemberIDs: members, SyncLevel: dc.Synced}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name      string
		current   *dc.Entity
		confirmed *dc.Entity
		flags     byte
	}{
		{"both nil entities", nil, nil, 0},
		{"current nil maps", entity(nil, nil), nil, NilData | NilMembers},
		{"confirmed nil maps", nil, entity(nil, nil), NilConfirmedData | NilConfirmedMembers},
		{"all nil maps", entity(nil, nil), entity(nil, nil), 0x0f},
		{"mixed", entity(nestedData(), nil), entity(nil, []string{}), NilMembers | NilConfirmedData},
		{"empty", entity(map[string]any{}, []string{}), entity(map[string]any{}, []string{"a"}), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &dc.EntityRecord{GUID: "g", Current: tc.current, Confirmed: tc.confirmed, Pending: []string{"p1"}, Rev: 9}
			b, err := AppendRecord(nil, r)
			if err != nil {
				t.Fatal(err)
			}
			checkHeader(t, b, tc.flags)
			got, err := DecodeRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.Rev != 0 {
				t.Fatalf("Rev = %d, want 0 (not encoded)", got.Rev)
			}
			got.Rev = r.Rev
			if !reflect.DeepEqual(got, r) {
				t.Fatalf("got %+v, want %+v", got, r)
			}
			for _, p := range [][2]*dc.Entity{{got.Current, tc.current}, {got.Confirmed, tc.confirmed}} {
				if p[0] == nil || p[1] == nil {
					continue
				}
				if (p[0].Data == nil) != (p[1].Data == nil) || (p[0].MemberIDs == nil) != (p[1].MemberIDs == nil) {
					t.Fatalf("nil-ness differs: got %+v, want %+v", p[0], p[1])
				}
			}
		})
	}
}

func TestAuditRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		changes []dc.FieldChange
	}{
		{"nil", nil},
		{"empty", []dc.FieldChange{}},
		{"nested", []dc.FieldChange{
			{Field: "a", Old: nil, New: "x"},
			{Field: "b", Old: map[string]any{"k": []any{"v"}}, New: int64(1)},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &dc.AuditEntry{ID: 5, GUID: "a", Timestamp: "t", UserID: "u", Action: "update",
				EventGUID: "e", EntityGUID: "g", Changes: tc.changes}
			b, err := AppendAudit(nil, a)
			if err != nil {
				t.Fatal(err)
			}
			checkHeader(t, b, 0)
			got, err := DecodeAudit(b)
			if err != nil {
				t.Fatal(err)
			}
			want := *a
			want.ID = 0
			if len(tc.changes) == 0 {
				want.Changes = nil
			}
			if !reflect.DeepEqual(got, &want) {
				t.Fatalf("got %+v, want %+v", got, &want)
			}
		})
	}
}

func TestDeviceReportRoundTrip(t *testing.T) {
	r := &dc.DeviceReport{LastSyncTime: "2026-11-25T10:00:00Z", Pending: 3, Failed: 1, Conflicts: 2,
		LastError: "ENETWORK: offline", Cursor: 42, Metrics: dc.SyncMetrics{SyncDuration: 120,
			EntitiesSynced: 7, BytesTransferred: 2048, ConflictsResolved: 1, ErrorsEncountered: 2, RetryAttempts: 3}}
	b, err := AppendDeviceReport(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, b, 0)
	got, err := DecodeDeviceReport(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("got %+v, want %+v", got, r)
	}
}

func TestCorrupt(t *testing.T) {
	good, err := AppendEvent(nil, &dc.Event{GUID: "e", Data: nestedData()})
	if err != nil {
		t.Fatal(err)
	}
	unknown := append([]byte{Version + 1}, good[1:]...)
	for name, b := range map[string][]byte{
		"nil":             nil,
		"short":           {Version},
		"unknown version": unknown,
		"version zero":    append([]byte{0}, good[1:]...),
		"truncated":       good[:len(good)/2],
		"garbage":         {Version, 0, 0xc1, 0xff, 0x00},
		"header only":     {Version, 0},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeEvent(b)
			checkESTORE(t, err)
			_, err = DecodeEntity(b)
			checkESTORE(t, err)
			_, err = DecodeRecord(b)
			checkESTORE(t, err)
			_, err = DecodeAudit(b)
			checkESTORE(t, err)
			_, err = DecodeDeviceReport(b)
			checkESTORE(t, err)
		})
	}
}
