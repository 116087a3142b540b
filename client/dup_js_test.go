//go:build js && wasm

package client_test

import "testing"

// TestDuplicatesOverIndexedDB runs the duplicate-detection tests in
// Chromium over IndexedDB.
func TestDuplicatesOverIndexedDB(t *testing.T) {
	testDuplicates(t, openIDB("client-dup-test"))
}
