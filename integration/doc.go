//go:build !js

// Package integration holds the end-to-end Go tests of sync: real client
// code over the in-memory store, talking HTTP (package httpsync) to the real
// server over SQLite and PostgreSQL. It has no non-test code.
package integration
