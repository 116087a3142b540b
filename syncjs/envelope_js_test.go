//go:build js && wasm

package syncjs

import (
	"context"
	"crypto/sha256"
	"reflect"
	"strconv"
	"testing"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/wire/envelope"
	"github.com/datacollect/datacollect/wire/envelope/envtest"
)

// TestEnvelopeVectors runs the shared envelope vectors against WebCrypto:
// the browser seals to the same bytes as Go and refuses the same envelopes.
func TestEnvelopeVectors(t *testing.T) {
	envtest.Check(t, func(key []byte) (envelope.AEAD, error) {
		return NewSubtleAEAD(context.Background(), key)
	})
}

func envelopeTestKey() []byte {
	k := sha256.Sum256([]byte("syncjs envelope test"))
	return k[:]
}

// TestEnvelopeSealer: pushes sealed by the browser open in Go (as on the
// server), pulls sealed by Go open in the browser, and SealPush leaves the
// caller's events alone.
func TestEnvelopeSealer(t *testing.T) {
	ctx := context.Background()
	key := envelopeTestKey()
	if _, err := NewSealer("demo", key, "00000000"); dc.ErrorCode(err) != dc.ECRYPTO {
		t.Fatalf("mismatched key id: %v", err)
	}
	if _, err := NewSealer("demo", key[:16], envelope.KeyID(key[:16])); dc.ErrorCode(err) != dc.ECRYPTO {
		t.Fatalf("short key: %v", err)
	}
	s, err := NewSealer("demo", key, envelope.KeyID(key))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(guid string) *dc.Event {
		return &dc.Event{GUID: guid, EntityGUID: "p-" + guid, Type: "create-individual", Timestamp: "2026-11-25T08:00:00.000Z",
			SyncLevel: dc.Local, Data: map[string]any{"name": "Amina " + guid, "age": int64(34), "tags": []any{"a", nil}}}
	}
	req := &dc.PushRequest{Events: []*dc.Event{mk("e1"), mk("e2"), mk("e3")}}
	orig := []*dc.Event{req.Events[0].Clone(), req.Events[1].Clone(), req.Events[2].Clone()}
	sealed, err := s.SealPush(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(req.Events, orig) {
		t.Fatal("SealPush changed the caller's events")
	}
	goCodec, err := envelope.NewGoCodec("demo", key)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range sealed.Events {
		if ev.Data != nil || !envelope.IsSealed(ev) {
			t.Fatalf("not sealed: %+v", ev)
		}
	}
	if err := goCodec.OpenEvents(ctx, sealed.Events); err != nil {
		t.Fatalf("Go opens the browser's envelopes: %v", err)
	}
	if !reflect.DeepEqual(sealed.Events, orig) {
		t.Fatal("opened events differ from the pushed ones")
	}
	page, err := goCodec.SealEvents(ctx, orig)
	if err != nil {
		t.Fatal(err)
	}
	resp := &dc.PullResponse{Events: append(page, mk("plain"))}
	if err := s.OpenPull(ctx, resp); err != nil {
		t.Fatalf("the browser opens Go's envelopes: %v", err)
	}
	if !reflect.DeepEqual(resp.Events[:3], orig) || resp.Events[3].Data == nil {
		t.Fatal("opened pull differs")
	}
	// A tampered envelope fails the whole page, which stays as it was.
	page, _ = goCodec.SealEvents(ctx, orig)
	page[1].Sealed[len(page[1].Sealed)-1] ^= 1
	if err := s.OpenPull(ctx, &dc.PullResponse{Events: page}); dc.ErrorCode(err) != dc.ECRYPTO {
		t.Fatalf("tampered pull: %v", err)
	}
	if page[0].Data != nil || page[0].Sealed == nil {
		t.Fatal("a refused page was partly opened")
	}
}

// BenchmarkEnvelopeWebCrypto seals and opens batches of 1 and 100 events
// with WebCrypto (ns/event).
func BenchmarkEnvelopeWebCrypto(b *testing.B) {
	ctx := context.Background()
	key := envelopeTestKey()
	s, err := NewSealer("demo", key, envelope.KeyID(key))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 100} {
		evs := make([]*dc.Event, n)
		for i := range evs {
			evs[i] = &dc.Event{GUID: "e" + strconv.Itoa(i), EntityGUID: "hh", Type: "create-group", Data: map[string]any{
				"name": "Household Mwangi", "village": "Kibera", "size": int64(2),
				"members": []any{map[string]any{"name": "Amina", "age": int64(34)}, map[string]any{"name": "Juma", "age": int64(7)}},
			}}
		}
		req := &dc.PushRequest{Events: evs}
		sealed, err := s.SealPush(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("seal/batch"+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SealPush(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
		b.Run("open/batch"+strconv.Itoa(n), func(b *testing.B) {
			work := make([]*dc.Event, n)
			for b.Loop() {
				for i, ev := range sealed.Events {
					cp := *ev
					work[i] = &cp
				}
				if err := s.OpenPull(ctx, &dc.PullResponse{Events: work}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}
