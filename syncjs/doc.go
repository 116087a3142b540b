// Package syncjs is DataCollect's boundary with JavaScript: it installs the
// window.datacollect API (Promises, events, plain JS objects in and out) over
// the Go client, and (with later issues) talks to the browser's fetch and
// WebCrypto. Every file that touches syscall/js is built only for js/wasm.
package syncjs
