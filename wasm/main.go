//go:build js && wasm

// Command wasm is the DataCollect client compiled to WebAssembly. The loader
// (web/datacollect.js) creates window.datacollect with a ready Promise and
// runs this program, which installs the API and resolves ready.
package main

import (
	"syscall/js"

	"github.com/google/uuid"

	"github.com/datacollect/datacollect/syncjs"
)

func main() {
	// Guids take their randomness from a pool refilled 16 at a time, not one
	// crypto.getRandomValues call (a JS round trip) each.
	uuid.EnableRandPool()
	obj := js.Global().Get("datacollect")
	if obj.IsUndefined() || obj.IsNull() {
		obj = js.Global().Get("Object").New()
		js.Global().Set("datacollect", obj)
	}
	syncjs.Install(obj, nil)
	if done := obj.Get("_resolveReady"); done.Type() == js.TypeFunction {
		done.Invoke(obj)
	}
	select {}
}
