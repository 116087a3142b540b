//go:build js && wasm

package client_test

import "testing"

// TestVerifyOverIndexedDB runs the verification scenarios in Chromium over
// IndexedDB.
func TestVerifyOverIndexedDB(t *testing.T) {
	runVerify(t, openIDB("verify-test"))
}
