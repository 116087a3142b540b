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

// TestVerifyOverIndexedDB runs the verification scenarios in Chromium over
// IndexedDB.
func TestVerifyOverIndexedDB(t *testing.T) {
	n := 0
	runVerify(t, func(t *testing.T) dc.Store {
		n++
		name := fmt.Sprintf("verify-test-%d-%d", time.Now().UnixNano(), n)
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
