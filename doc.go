// Package datacollect holds the domain of DataCollect, an offline-first
// data-collection sync module: events (form submissions), the entities they
// are applied to (individuals and groups), audit entries, the error type with
// stable codes, and the Store contract that every client store implements.
//
// The package imports only the standard library (and generated MessagePack
// code). The pure core lives in package core, stores in package store and its
// children, the JavaScript boundary in package syncjs.
package datacollect

//go:generate go tool msgp -file event.go -o event_gen.go -tests=false
//go:generate go tool msgp -file entity.go -o entity_gen.go -tests=false
//go:generate go tool msgp -file audit.go -o audit_gen.go -tests=false
//go:generate go tool msgp -file protocol.go -o protocol_gen.go -tests=false
//go:generate go tool msgp -file digest.go -o digest_gen.go -tests=false
