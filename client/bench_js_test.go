//go:build js && wasm

package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/datacollect/datacollect/client"
	idbstore "github.com/datacollect/datacollect/store/idb"
)

// idbClient returns a client over a fresh IndexedDB database, deleted at
// the end of the benchmark.
func idbClient(b *testing.B) *client.Client {
	ctx := context.Background()
	name := fmt.Sprintf("bench-client-%d", time.Now().UnixNano())
	s, err := idbstore.Open(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = s.Close()
		_ = idbstore.Delete(ctx, name)
	})
	return client.New(s, client.Options{})
}

// BenchmarkSubmitFormIDB: one form per submission, over IndexedDB.
func BenchmarkSubmitFormIDB(b *testing.B) {
	ctx := context.Background()
	c := idbClient(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.SubmitForm(ctx, client.Form{Type: "create-individual", Data: map[string]any{"n": i, "name": "x"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSubmitForms1000IDB: batches of 1000 forms over IndexedDB.
func BenchmarkSubmitForms1000IDB(b *testing.B) {
	ctx := context.Background()
	c := idbClient(b)
	fs := benchForms(1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.SubmitForms(ctx, fs); err != nil {
			b.Fatal(err)
		}
	}
}
