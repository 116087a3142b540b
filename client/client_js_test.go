//go:build js && wasm

package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client/clienttest"
	idbstore "github.com/datacollect/datacollect/store/idb"
)

// TestClientOverIndexedDB runs the client suite in Chromium over IndexedDB.
func TestClientOverIndexedDB(t *testing.T) {
	n := 0
	clienttest.Run(t, func(t *testing.T) dc.Store {
		n++
		name := fmt.Sprintf("client-test-%d-%d", time.Now().UnixNano(), n)
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
