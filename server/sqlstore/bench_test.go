//go:build !js

package sqlstore_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/internal/pgtest"
	"github.com/datacollect/datacollect/server/sqlstore"
	"github.com/datacollect/datacollect/server/storetest"
)

// Sizes of the benchmarks.
const (
	pushBatch = 100 // events per Push
	pullPage  = 500 // events per Pull
)

// benchStores runs bench on a fresh SQLite store and a fresh PostgreSQL one.
func benchStores(b *testing.B, bench func(b *testing.B, s *sqlstore.Store)) {
	b.Run("sqlite", func(b *testing.B) {
		s := openSQLite(b, sqlitePath(b))
		defer s.Close()
		bench(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s := openPostgres(b, pgtest.DSN(b))
		defer s.Close()
		bench(b, s)
	})
}

// batch returns the n events of batch i, with an entity and an audit entry
// each, as a push with them.
func batch(i, n int) func(tx dc.PushTx) error {
	evs := make([]*dc.Event, n)
	for j := range evs {
		evs[j] = storetest.Event(fmt.Sprintf("e-%d-%d", i, j), fmt.Sprintf("p-%d-%d", i, j), map[string]any{
			"name": "Ana Lúcia", "age": 31.0, "village": "Kisumu", "household": map[string]any{"size": 5.0},
		})
	}
	return func(tx dc.PushTx) error {
		for _, ev := range evs {
			ev.Seq = 0
			if err := tx.Append(ev); err != nil {
				return err
			}
			if err := tx.PutEntity(storetest.Entity(ev.EntityGUID, ev.Data)); err != nil {
				return err
			}
			if err := tx.AppendAudit(ev.Seq, storetest.Audit("a-"+ev.GUID, ev)); err != nil {
				return err
			}
		}
		return nil
	}
}

// BenchmarkPush is one Push of 100 events, each with an entity put and an
// audit entry: a device's sync of a morning's work.
func BenchmarkPush(b *testing.B) {
	benchStores(b, func(b *testing.B, s *sqlstore.Store) {
		i := 0
		for b.Loop() {
			require.NoError(b, s.Push(ctx, "app1", batch(i, pushBatch)))
			i++
		}
		b.ReportMetric(float64(b.N*pushBatch)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkPull is one Pull of a page of 500 events (with their audit
// entries) out of 5,000.
func BenchmarkPull(b *testing.B) {
	benchStores(b, func(b *testing.B, s *sqlstore.Store) {
		const total = 5000
		for i := range total / pushBatch {
			require.NoError(b, s.Push(ctx, "app1", batch(i, pushBatch)))
		}
		var since int64
		for b.Loop() {
			evs, audit, _, err := s.Pull(ctx, "app1", since, pullPage)
			if err != nil || len(evs) != pullPage || len(audit) != pullPage {
				b.Fatalf("pull after %d: %d events, %d audit entries, %v", since, len(evs), len(audit), err)
			}
			since = (since + pullPage) % (total - pullPage)
		}
		b.ReportMetric(float64(b.N*pullPage)/b.Elapsed().Seconds(), "events/s")
	})
}
