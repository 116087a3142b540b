//go:build js && wasm

package idbstore_test

import (
	"fmt"
	"slices"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	idbstore "github.com/datacollect/datacollect/store/idb"
	"github.com/datacollect/datacollect/store/storetest"
)

var batchSizes = []int{1, 100, 1000}

// capture returns the batch that capturing n new individuals writes: per
// individual an event, an entity record and an audit entry.
func capture(prefix string, n int) *dc.Batch {
	b := &dc.Batch{}
	for i := 0; i < n; i++ {
		g := fmt.Sprintf("%s-%06d", prefix, i)
		data := map[string]any{"name": "Ana Maria", "surname": "Lopes", "age": 31.0, "sex": "F",
			"village": "Kanyama", "phone": "+260971234567"}
		b.NewEvents = append(b.NewEvents, storetest.Event("e"+g, "p"+g, dc.Local, data))
		b.Entities = append(b.Entities, dc.EntityWrite{Record: storetest.Record("p"+g, dc.Individual, data)})
		var ch []dc.FieldChange
		for k, v := range data {
			ch = append(ch, dc.FieldChange{Field: k, New: v})
		}
		b.Audit = append(b.Audit, &dc.AuditEntry{GUID: "a" + g, Timestamp: "2026-11-25T10:00:00.000Z", UserID: "u1",
			Action: "create-individual", EventGUID: "e" + g, EntityGUID: "p" + g, Changes: ch})
	}
	return b
}

func BenchmarkCommit(b *testing.B) {
	for _, n := range batchSizes {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			s, _ := openNew(b)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				batch := capture(fmt.Sprint(i), n)
				b.StartTimer()
				if err := s.Commit(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
		})
	}
}

// rawCommit is the baseline of BenchmarkCommit: the same records (clear
// fields and payloads of the same sizes) added by plain JavaScript in one
// transaction. The baselines are compiled when the package is initialized,
// before TestMain forbids compiling code.
var rawCommit = js.Global().Get("Function").New("db", "prefix", "n", "sizes", `
const [evLen, entLen, auLen] = sizes;
return new Promise((resolve, reject) => {
	const tx = db.transaction(["events", "entities", "audit"], "readwrite");
	const ev = tx.objectStore("events"), en = tx.objectStore("entities"), au = tx.objectStore("audit");
	for (let i = 0; i < n; i++) {
		const g = prefix + "-" + String(i).padStart(6, "0");
		ev.add({guid: "e" + g, entityGuid: "p" + g, syncLevel: "LOCAL", p: new Uint8Array(evLen)});
		en.add({guid: "p" + g, rev: 1, type: "individual", p: new Uint8Array(entLen)});
		au.add({entityGuid: "p" + g, p: new Uint8Array(auLen)});
	}
	tx.oncomplete = () => resolve();
	tx.onabort = () => reject(tx.error);
});`)

// rawOpen opens a database with the store's schema for plain JavaScript.
func rawOpen(b *testing.B) js.Value {
	s, name := openNew(b)
	require.NoError(b, s.Close())
	db := rawConn(b, name)
	b.Cleanup(func() { db.Call("close") })
	return db
}

func awaitPromise(b *testing.B, p js.Value) js.Value {
	ch := make(chan js.Value, 1)
	errc := make(chan js.Value, 1)
	ok := js.FuncOf(func(_ js.Value, args []js.Value) any { ch <- args[0]; return nil })
	fail := js.FuncOf(func(_ js.Value, args []js.Value) any { errc <- args[0]; return nil })
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	select {
	case v := <-ch:
		return v
	case e := <-errc:
		b.Fatal(e.Call("toString").String())
		return js.Value{}
	}
}

func BenchmarkRawJSCommit(b *testing.B) {
	sample := capture("x", 1)
	ev, _ := sample.NewEvents[0].MarshalMsg(nil)
	ent, _ := sample.Entities[0].Record.MarshalMsg(nil)
	au, _ := sample.Audit[0].MarshalMsg(nil)
	sizes := []any{len(ev) + 2, len(ent) + 2, len(au) + 2}
	for _, n := range batchSizes {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			db := rawOpen(b)
			for i := 0; i < b.N; i++ {
				awaitPromise(b, rawCommit.Invoke(db, fmt.Sprint(i), n, js.ValueOf(sizes)))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
		})
	}
}

// BenchmarkCommitVsRawJS alternates BenchmarkCommit's batches and their
// raw JavaScript baseline, so that both see the same machine load, and
// reports the medians per item and the store's speed as a percentage of
// raw JavaScript's (medians resist the outliers of a loaded machine).
func BenchmarkCommitVsRawJS(b *testing.B) {
	sample := capture("x", 1)
	ev, _ := sample.NewEvents[0].MarshalMsg(nil)
	ent, _ := sample.Entities[0].Record.MarshalMsg(nil)
	au, _ := sample.Audit[0].MarshalMsg(nil)
	sizes := js.ValueOf([]any{len(ev) + 2, len(ent) + 2, len(au) + 2})
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Nanoseconds())
	}
	for _, n := range batchSizes {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			s, _ := openNew(b)
			db := rawOpen(b)
			var ours, raw []time.Duration
			for i := 0; i < b.N; i++ {
				batch := capture(fmt.Sprint(i), n)
				t0 := time.Now()
				if err := s.Commit(ctx, batch); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				awaitPromise(b, rawCommit.Invoke(db, fmt.Sprint(i), n, sizes))
				ours = append(ours, t1.Sub(t0))
				raw = append(raw, time.Since(t1))
			}
			o, r := median(ours), median(raw)
			b.ReportMetric(o/float64(n), "store-ns/item")
			b.ReportMetric(r/float64(n), "raw-ns/item")
			b.ReportMetric(100*r/o, "%raw-speed")
		})
	}
}

func fill(b *testing.B, s *idbstore.Store, n int) {
	batch := capture("f", n)
	for i, w := range batch.Entities {
		if i%2 == 1 {
			w.Record.Current.Type = dc.Group
		}
	}
	require.NoError(b, s.Commit(ctx, batch))
}

func BenchmarkListEntities(b *testing.B) {
	const n = 1000
	s, _ := openNew(b)
	fill(b, s, n)
	for _, q := range []struct {
		name string
		q    dc.EntityQuery
		want int
	}{
		{"all", dc.EntityQuery{}, n},
		{"type", dc.EntityQuery{Type: dc.Individual}, n / 2},
		{"limit=50", dc.EntityQuery{Limit: 50}, 50},
	} {
		b.Run(q.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				recs, err := s.ListEntities(ctx, q.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(recs) != q.want {
					b.Fatalf("got %d records, want %d", len(recs), q.want)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*q.want), "ns/item")
		})
	}
}

// rawGetAll is the baseline of BenchmarkRawJSGetAll.
var rawGetAll = js.Global().Get("Function").New("db", `return new Promise((resolve, reject) => {
	const r = db.transaction("entities", "readonly").objectStore("entities").getAll();
	r.onsuccess = () => resolve(r.result.length);
	r.onerror = () => reject(r.error);
});`)

// BenchmarkRawJSGetAll is the baseline of BenchmarkListEntities/all: a
// getAll of the same records in plain JavaScript, without decoding.
func BenchmarkRawJSGetAll(b *testing.B) {
	const n = 1000
	s, name := openNew(b)
	fill(b, s, n)
	require.NoError(b, s.Close())
	db := rawConn(b, name)
	defer db.Call("close")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if got := awaitPromise(b, rawGetAll.Invoke(db)).Int(); got != n {
			b.Fatalf("got %d records", got)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
}
