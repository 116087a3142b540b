//go:build js && wasm

package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	dc "github.com/datacollect/datacollect"
	idbstore "github.com/datacollect/datacollect/store/idb"
)

// TestDuplicatesOverIndexedDB runs the duplicate-detection tests in
// Chromium over IndexedDB.
func TestDuplicatesOverIndexedDB(t *testing.T) {
	n := 0
	testDuplicates(t, func(t *testing.T) dc.Store {
		n++
		name := fmt.Sprintf("client-dup-test-%d-%d", time.Now().UnixNano(), n)
		s, err := idbstore.Open(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = s.Close()
			_ = idbstore.Delete(context.Background(), name)
		})
		return s
	})
}
