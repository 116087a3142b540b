package core_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/internal/payload"
)

// digestEvent is a confirmed event with every hashed field set.
func digestEvent() *dc.Event {
	return &dc.Event{
		GUID: "e1", EntityGUID: "p1", Type: "create-individual", UserID: "u1",
		Timestamp: "2026-11-25T10:00:00.000Z", HLC: "1795600800000.00001", Device: "d1",
		Seq: 7, BaseSeq: 5, BaseVersion: 2, Strategy: "merge", Resolvers: map[string]string{"age": "max", "tags": "union"},
		SyncLevel: dc.Synced,
		Data: map[string]any{"name": "Ana", "age": 41.0, "ok": true, "none": nil,
			"tags": []any{"a", "b"}, "address": map[string]any{"city": "Nairobi", "zip": 100.0}},
	}
}

func TestEventHashCoversTheEvent(t *testing.T) {
	base := core.EventHash(digestEvent())
	changes := map[string]func(e *dc.Event){
		"seq":         func(e *dc.Event) { e.Seq++ },
		"guid":        func(e *dc.Event) { e.GUID = "e2" },
		"entity":      func(e *dc.Event) { e.EntityGUID = "p2" },
		"type":        func(e *dc.Event) { e.Type = "update-individual" },
		"user":        func(e *dc.Event) { e.UserID = "u2" },
		"timestamp":   func(e *dc.Event) { e.Timestamp = "2026-11-25T10:00:00.001Z" },
		"hlc":         func(e *dc.Event) { e.HLC = "1795600800000.00002" },
		"device":      func(e *dc.Event) { e.Device = "d2" },
		"baseSeq":     func(e *dc.Event) { e.BaseSeq = 6 },
		"baseVersion": func(e *dc.Event) { e.BaseVersion = 3 },
		"strategy":    func(e *dc.Event) { e.Strategy = "lww" },
		"resolver":    func(e *dc.Event) { e.Resolvers["age"] = "min" },
		"no resolver": func(e *dc.Event) { e.Resolvers = nil },
		"data value":  func(e *dc.Event) { e.Data["name"] = "Ann" },
		"data number": func(e *dc.Event) { e.Data["age"] = 41.5 },
		"data type":   func(e *dc.Event) { e.Data["age"] = "41" },
		"data null":   func(e *dc.Event) { delete(e.Data, "none") },
		"data false":  func(e *dc.Event) { e.Data["ok"] = false },
		"nested":      func(e *dc.Event) { e.Data["address"].(map[string]any)["city"] = "Mombasa" },
		"array order": func(e *dc.Event) { e.Data["tags"] = []any{"b", "a"} },
		"array/value": func(e *dc.Event) { e.Data["tags"] = "a" },
	}
	seen := map[[32]byte]string{base: "base"}
	for name, change := range changes {
		ev := digestEvent()
		change(ev)
		h := core.EventHash(ev)
		if other, dup := seen[h]; dup {
			t.Errorf("%s hashes like %s", name, other)
		}
		seen[h] = name
	}
}

func TestEventHashIgnoresReplicaBookkeeping(t *testing.T) {
	base := core.EventHash(digestEvent())
	same := map[string]func(e *dc.Event){
		"sync level": func(e *dc.Event) { e.SyncLevel = dc.External },
		"failure":    func(e *dc.Event) { e.Failure = &dc.Failure{Code: dc.EINVALID, Message: "x"} },
		"lseq":       func(e *dc.Event) { e.LSeq = 99 },
		"int number": func(e *dc.Event) { e.Data["age"] = int64(41) },
		"negative 0": func(e *dc.Event) { e.Data["zero"] = math.Copysign(0, -1) },
		"[]string":   func(e *dc.Event) { e.Data["tags"] = []string{"a", "b"} },
	}
	zero := digestEvent()
	zero.Data["zero"] = 0.0
	for name, change := range same {
		ev := digestEvent()
		change(ev)
		want := base
		if name == "negative 0" {
			want = core.EventHash(zero)
		}
		assert.Equal(t, want, core.EventHash(ev), name)
	}
	a, b := digestEvent(), digestEvent()
	a.Data, b.Data = nil, map[string]any{}
	a.Resolvers, b.Resolvers = nil, map[string]string{}
	assert.Equal(t, core.EventHash(a), core.EventHash(b), "nil and empty maps are one value")
}

func TestEventHashIsUnambiguous(t *testing.T) {
	a, b := digestEvent(), digestEvent()
	a.GUID, a.EntityGUID = "ab", "c"
	b.GUID, b.EntityGUID = "a", "bc"
	assert.NotEqual(t, core.EventHash(a), core.EventHash(b), "fields are length-prefixed")
	a, b = digestEvent(), digestEvent()
	a.Data = map[string]any{"k": []any{"x", "y"}}
	b.Data = map[string]any{"k": []any{"x"}, "y": nil}
	assert.NotEqual(t, core.EventHash(a), core.EventHash(b))
	a.Data = map[string]any{"k": map[string]any{}}
	b.Data = map[string]any{"k": []any{}}
	assert.NotEqual(t, core.EventHash(a), core.EventHash(b), "values are typed")
}

// TestEventHashSurvivesEncodings: a replica hashes an event the same
// whether it came over MessagePack, JSON or out of a store's payload.
func TestEventHashSurvivesEncodings(t *testing.T) {
	ev := digestEvent()
	ev.Data["big"] = 1 << 40
	want := core.EventHash(ev)

	b, err := ev.MarshalMsg(nil)
	require.NoError(t, err)
	var fromMsg dc.Event
	_, err = fromMsg.UnmarshalMsg(b)
	require.NoError(t, err)
	assert.Equal(t, want, core.EventHash(&fromMsg), "msgpack")

	j, err := json.Marshal(ev)
	require.NoError(t, err)
	var fromJSON dc.Event
	require.NoError(t, json.Unmarshal(j, &fromJSON))
	assert.Equal(t, want, core.EventHash(&fromJSON), "json")

	p, err := payload.AppendEvent(nil, ev)
	require.NoError(t, err)
	fromPayload, err := payload.DecodeEvent(p)
	require.NoError(t, err)
	assert.Equal(t, want, core.EventHash(fromPayload), "store payload")

	norm := ev.Clone()
	norm.Data, err = dc.NormalizeMap(norm.Data)
	require.NoError(t, err)
	assert.Equal(t, want, core.EventHash(norm), "normalised")
}

// TestChainGolden pins the digest's definition: every replica and server
// version must compute these roots, or they would never match again.
func TestChainGolden(t *testing.T) {
	assert.Equal(t, [32]byte{}, core.ZeroRoot)
	ev1 := digestEvent()
	ev2 := &dc.Event{GUID: "e2", EntityGUID: "p1", Type: "update-individual", UserID: "u1",
		Timestamp: "2026-11-25T10:00:01.000Z", Seq: 8, Data: map[string]any{"age": 42.0}}
	h2 := core.EventHash(ev2)
	r1 := core.Chain(core.ZeroRoot, ev1)
	r2 := core.Chain(r1, ev2)
	assert.Equal(t, sha256.Sum256(append(r1[:], h2[:]...)), r2, "root(n) = SHA-256(root(n-1) || EventHash(event n))")
	assert.Equal(t, r2, core.ChainAll(core.ZeroRoot, []*dc.Event{ev1, ev2}))
	assert.Equal(t, "284097e1589a307ea14880461820cf58cab2c770205ae888f729a6b28d8e1011", core.RootHex(h2))
	assert.Equal(t, "656329101c9a7587c09c2c85893b8363f701a6ef2b32134caaa2f671aac6b35f", core.RootHex(r1))
	assert.Equal(t, "f54600c3bb690585ec17bc7e9f5490b27e72d8385b1a13efc420d64077d3becd", core.RootHex(r2))
}

func TestRootHex(t *testing.T) {
	r := core.Chain(core.ZeroRoot, digestEvent())
	s := core.RootHex(r)
	assert.Len(t, s, 64)
	back, err := core.ParseRoot(s)
	require.NoError(t, err)
	assert.Equal(t, r, back)
	for _, bad := range []string{"", "00", s[:63] + "g", s + "00"} {
		_, err := core.ParseRoot(bad)
		assert.Equal(t, dc.EINVALID, dc.ErrorCode(err), bad)
	}
	z, err := core.RootOf(nil)
	require.NoError(t, err)
	assert.Equal(t, core.ZeroRoot, z)
	_, err = core.RootOf([]byte{1, 2})
	assert.Equal(t, dc.ESTORE, dc.ErrorCode(err))
}

// BenchmarkChain measures the cost of keeping the digest: one Chain per
// stored event (a create-individual of ten fields).
func BenchmarkChain(b *testing.B) {
	ev := &dc.Event{GUID: "0b9a3c1e-8f4d-4c59-9d0e-2f1e6a7b8c9d", EntityGUID: "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
		Type: "create-individual", UserID: "7c8d9e0f-1a2b-4c3d-9e4f-5a6b7c8d9e0f", Timestamp: "2026-11-25T10:00:00.000Z",
		HLC: "1795600800000.00001", Device: "dev-1", Seq: 123456, BaseSeq: 123400, SyncLevel: dc.Synced,
		Data: map[string]any{}}
	for i := range 10 {
		ev.Data[fmt.Sprintf("field%d", i)] = fmt.Sprintf("value number %d", i)
	}
	ev.Data["age"] = 41.0
	root := core.ZeroRoot
	b.ReportAllocs()
	for b.Loop() {
		root = core.Chain(root, ev)
	}
	_ = root
}
