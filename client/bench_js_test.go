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

// BenchmarkSubmitFormIDB: one form per submission, over IndexedDB.
func BenchmarkSubmitFormIDB(b *testing.B) {
	ctx := context.Background()
	name := fmt.Sprintf("bench-submit-%d", time.Now().UnixNano())
	s, err := idbstore.Open(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	defer idbstore.Delete(ctx, name)
	defer s.Close()
	c := client.New(s, client.Options{})
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
	name := fmt.Sprintf("bench-submit1000-%d", time.Now().UnixNano())
	s, err := idbstore.Open(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	defer idbstore.Delete(ctx, name)
	defer s.Close()
	c := client.New(s, client.Options{})
	fs := benchForms(1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.SubmitForms(ctx, fs); err != nil {
			b.Fatal(err)
		}
	}
}
