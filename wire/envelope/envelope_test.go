package envelope_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"reflect"
	"strings"
	"testing"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/wire/envelope"
)

var ctx = context.Background()

func testKey(s string) []byte {
	k := sha256.Sum256([]byte(s))
	return k[:]
}

func household(guid string) *dc.Event {
	return &dc.Event{GUID: guid, EntityGUID: "hh-" + guid, Type: "create-group", Timestamp: "2026-11-25T08:00:00.000Z",
		SyncLevel: dc.Local, UserID: "u1", Data: map[string]any{
			"name":    "Household Mwangi",
			"members": []any{map[string]any{"name": "Amina", "age": int64(34)}, map[string]any{"name": "Juma", "age": int64(7)}},
			"village": "Kibera", "size": int64(2), "geo": map[string]any{"lat": -1.3133, "lon": 36.7892},
		}}
}

func TestSealOpenRoundTrip(t *testing.T) {
	c, err := envelope.NewGoCodec("demo", testKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	in := []*dc.Event{household("e1"), nil, household("e2"), {GUID: "e3", EntityGUID: "x", Type: "delete-individual"}}
	orig := make([]*dc.Event, len(in))
	for i, ev := range in {
		orig[i] = ev.Clone()
	}
	out, err := c.SealEvents(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, orig) {
		t.Fatal("SealEvents changed its input")
	}
	if out[1] != nil || out[0] == in[0] {
		t.Fatal("SealEvents must return copies and keep nil events")
	}
	for i, ev := range out {
		if ev == nil {
			continue
		}
		if ev.Data != nil || !envelope.IsSealed(ev) || !bytes.HasPrefix(ev.Sealed, []byte(envelope.Magic)) {
			t.Fatalf("event %d not sealed: %+v", i, ev)
		}
	}
	if bytes.Equal(out[0].Sealed[8:20], out[2].Sealed[8:20]) {
		t.Fatal("two envelopes share an IV")
	}
	// Sealing again passes sealed events through.
	again, err := c.SealEvents(ctx, out)
	if err != nil || !bytes.Equal(again[0].Sealed, out[0].Sealed) {
		t.Fatalf("resealing: %v", err)
	}
	if err := c.OpenEvents(ctx, out); err != nil {
		t.Fatal(err)
	}
	for i, ev := range out {
		if ev == nil {
			continue
		}
		if ev.Sealed != nil || !reflect.DeepEqual(ev.Data, orig[i].Data) {
			t.Fatalf("event %d: opened %#v, want %#v", i, ev.Data, orig[i].Data)
		}
		ev.Data = orig[i].Data
		if !reflect.DeepEqual(ev, orig[i]) {
			t.Fatalf("event %d: other fields changed: %+v", i, ev)
		}
	}
	// Plain events pass through OpenEvents.
	plain := household("p")
	if err := c.OpenEvents(ctx, []*dc.Event{plain, nil}); err != nil || plain.Data == nil {
		t.Fatalf("plain event: %v", err)
	}
}

func TestSingleSealOpen(t *testing.T) {
	key := testKey("single")
	ev := household("s1")
	want := dc.CloneMap(ev.Data)
	if err := envelope.Seal(key, envelope.KeyID(key), "demo", ev, make([]byte, 12)); err != nil {
		t.Fatal(err)
	}
	if ev.Data != nil || len(ev.Sealed) == 0 {
		t.Fatal("Seal did not seal in place")
	}
	if err := envelope.Open(key, envelope.KeyID(key), "other-app", ev); dc.ErrorCode(err) != dc.ECRYPTO {
		t.Fatalf("open in another app: %v", err)
	}
	if err := envelope.Open(key, envelope.KeyID(key), "demo", ev); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ev.Data, want) || ev.Sealed != nil {
		t.Fatalf("opened %#v", ev.Data)
	}
}

func TestBadKeysAndIVs(t *testing.T) {
	if _, err := envelope.NewAESGCM(make([]byte, 16)); dc.ErrorCode(err) != dc.ECRYPTO {
		t.Fatalf("16-byte key: %v", err)
	}
	a, _ := envelope.NewAESGCM(testKey("x"))
	for _, id := range []string{"", "123", "zzzzzzzz", "0011223344"} {
		if _, err := envelope.NewCodec("a", id, a); dc.ErrorCode(err) != dc.ECRYPTO {
			t.Fatalf("key id %q: %v", id, err)
		}
	}
	c, _ := envelope.NewGoCodec("a", testKey("x"))
	if _, err := c.SealEventsIV(ctx, []*dc.Event{household("e")}, [][]byte{make([]byte, 8)}); dc.ErrorCode(err) != dc.ECRYPTO {
		t.Fatalf("short IV: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.SealEvents(cancelled, []*dc.Event{household("e")}); err != context.Canceled {
		t.Fatalf("cancelled seal: %v", err)
	}
}

func TestSizeBound(t *testing.T) {
	c, _ := envelope.NewGoCodec("a", testKey("x"))
	big := household("big")
	big.Data = map[string]any{"blob": strings.Repeat("x", envelope.MaxSize)}
	if _, err := c.SealEvents(ctx, []*dc.Event{big}); dc.ErrorCode(err) != dc.ETOOLARGE {
		t.Fatalf("oversized data: %v", err)
	}
	huge := household("huge")
	huge.Data = nil
	huge.Sealed = append([]byte(envelope.Magic), make([]byte, envelope.MaxSize)...)
	if err := c.OpenEvents(ctx, []*dc.Event{huge}); dc.ErrorCode(err) != dc.ECRYPTO || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("oversized envelope: %v", err)
	}
}

// BenchmarkEnvelope seals and opens one typical event (a household with two
// members, ~170 bytes of data) per operation with crypto/aes, alone and in
// batches of 100 as a push or pull does.
func BenchmarkEnvelope(b *testing.B) {
	c, _ := envelope.NewGoCodec("demo", testKey("bench"))
	for _, n := range []int{1, 100} {
		evs := make([]*dc.Event, n)
		for i := range evs {
			evs[i] = household("e" + string(rune('a'+i%26)))
		}
		sealed, err := c.SealEvents(ctx, evs)
		if err != nil {
			b.Fatal(err)
		}
		name := "batch1"
		if n > 1 {
			name = "batch100"
		}
		b.Run("seal/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.SealEvents(ctx, evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
		b.Run("open/"+name, func(b *testing.B) {
			b.ReportAllocs()
			work := make([]*dc.Event, n)
			for b.Loop() {
				for i, ev := range sealed {
					cp := *ev
					work[i] = &cp
				}
				if err := c.OpenEvents(ctx, work); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}

// FuzzOpen opens arbitrary envelopes, and valid ones with arbitrary
// contexts: Open must never panic, fail with ECRYPTO only, and leave a
// refused event as it was.
func FuzzOpen(f *testing.F) {
	key := testKey("fuzz")
	c, _ := envelope.NewGoCodec("app", key)
	ev := household("f1")
	sealed, err := c.SealEvents(ctx, []*dc.Event{ev})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed[0].Sealed, ev.GUID, ev.EntityGUID, ev.Type)
	f.Add(sealed[0].Sealed, "f2", ev.EntityGUID, ev.Type)
	f.Add([]byte("DCE1"), "g", "e", "t")
	f.Add([]byte{}, "g", "e", "t")
	f.Fuzz(func(t *testing.T, env []byte, guid, entity, typ string) {
		in := &dc.Event{GUID: guid, EntityGUID: entity, Type: typ, Sealed: bytes.Clone(env)}
		err := c.OpenEvents(ctx, []*dc.Event{in})
		if err != nil {
			if dc.ErrorCode(err) != dc.ECRYPTO {
				t.Fatalf("%v", err)
			}
			if !bytes.Equal(in.Sealed, env) || in.Data != nil {
				t.Fatal("a refused envelope changed the event")
			}
			return
		}
		if len(env) > 0 && (in.Sealed != nil || !reflect.DeepEqual(in.Data, ev.Data)) {
			t.Fatalf("opened %#v", in.Data)
		}
	})
}
