// Package store holds the in-memory implementation of the client Store
// contract (datacollect.Store). Its sibling packages hold the IndexedDB
// implementation (store/idb) and the conformance suite every implementation
// passes (store/storetest).
package store
