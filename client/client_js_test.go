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
	clienttest.Run(t, openIDB("client-test"))
}

// openIDB returns an opener of fresh IndexedDB stores named after prefix,
// each deleted when its test ends.
func openIDB(prefix string) func(t *testing.T) dc.Store {
	n := 0
	return func(t *testing.T) dc.Store {
		n++
		name := fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), n)
		s, err := idbstore.Open(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = s.Close()
			_ = idbstore.Delete(context.Background(), name)
		})
		return s
	}
}
