package external

import (
	"sort"
	"sync"
)

var (
	regMu    sync.RWMutex
	registry = map[string]func() Adapter{}
)

// Register makes an adapter available under name; adapters call it from an
// init function. It panics if name is empty, factory is nil or name is
// already registered.
func Register(name string, factory func() Adapter) {
	if name == "" || factory == nil {
		panic("external: Register with an empty name or a nil factory")
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("external: Register called twice for adapter " + name)
	}
	registry[name] = factory
}

// New returns a new, uninitialized adapter registered under name, or an
// ECONFIG error.
func New(name string) (Adapter, error) {
	regMu.RLock()
	f, ok := registry[name]
	regMu.RUnlock()
	if !ok {
		return nil, Errorf(ECONFIG, "unknown adapter %q (registered: %v)", name, Names())
	}
	return f(), nil
}

// Names returns the registered adapter names, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
