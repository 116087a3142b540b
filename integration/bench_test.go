//go:build !js

package integration

import (
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/httpsync"
	"github.com/datacollect/datacollect/internal/pgtest"
)

// BenchmarkIngest: 50 concurrent Go clients push batches of 100 new
// individuals each to the real server over HTTP (MessagePack + gzip), on
// SQLite and on PostgreSQL. It reports events/s and the p50/p99 latency of
// one push.
func BenchmarkIngest(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var dsn string
			if kind == "sqlite" {
				dsn = filepath.Join(b.TempDir(), "bench.db")
			} else {
				dsn = pgtest.DSN(b)
			}
			benchIngest(b, dsn, 50, 100)
		})
	}
}

func benchIngest(b *testing.B, dsn string, clients, batch int) {
	e := newBenchEnv(b, dsn)
	trs := make([]*httpsync.Client, clients)
	for i := range trs {
		// The server allows 20 logins a minute per address (all of
		// these clients share one): let its clock pass a minute.
		if i > 0 && i%20 == 0 {
			e.clock.Advance(time.Minute)
		}
		email, pw := e.userB(b, "bench")
		trs[i] = &httpsync.Client{BaseURL: e.http.URL, AppID: "bench", ClientID: fmt.Sprintf("c%d", i), Gzip: true}
		_, err := trs[i].Login(ctx, email, pw)
		require.NoError(b, err)
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		n         int
	)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := (b.N + clients - 1) / clients
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				evs := make([]*dc.Event, batch)
				for j := range evs {
					g := fmt.Sprintf("c%d-%d-%d", c, i, j)
					evs[j] = &dc.Event{GUID: "e-" + g, EntityGUID: "p-" + g, Type: "create-individual",
						Data:      map[string]any{"givenName": "Given", "familyName": "Family", "nationalId": g, "birthdate": "1990-01-01"},
						Timestamp: "2026-11-25T08:00:00.000Z", SyncLevel: dc.Local}
				}
				t0 := time.Now()
				resp, err := trs[c].Push(ctx, &dc.PushRequest{Events: evs})
				d := time.Since(t0)
				if err != nil || resp.Results[0].Status != dc.PushAccepted {
					b.Errorf("push: %v", err)
					return
				}
				mu.Lock()
				latencies = append(latencies, d)
				n += batch
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
