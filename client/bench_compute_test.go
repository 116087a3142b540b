package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/store"
)

func benchForms(n int) []client.Form {
	fs := make([]client.Form, n)
	for i := range fs {
		fs[i] = client.Form{Type: "create-individual", Data: map[string]any{"givenName": fmt.Sprint("Given", i),
			"familyName": "Family", "birthdate": "1990-01-01", "gender": "Female", "nationalId": fmt.Sprint("ID", i), "phone": "+254700000000"}}
	}
	return fs
}

// BenchmarkSubmitForms1000Memory measures the client's own work for a batch
// (prepare, apply, audit, encode) without IndexedDB.
func BenchmarkSubmitForms1000Memory(b *testing.B) {
	fs := benchForms(1000)
	for i := 0; i < b.N; i++ {
		c := client.New(store.NewMemory(), client.Options{})
		if _, err := c.SubmitForms(context.Background(), fs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONForms1000(b *testing.B) {
	raw, _ := json.Marshal(benchForms(1000))
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		var fs []client.Form
		if err := json.Unmarshal(raw, &fs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONEvents1000(b *testing.B) {
	c := client.New(store.NewMemory(), client.Options{})
	evs, _ := c.SubmitForms(context.Background(), benchForms(1000))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := json.Marshal(evs); err != nil {
			b.Fatal(err)
		}
	}
}
