package core

// Cache remembers, by guid, what a batched read returned, absence included
// (as V's zero value), so that each guid is read at most once. Replicas use
// it to feed a Working set from their store: the client, the pull planner
// and the server's push transaction.
type Cache[V any] struct {
	fetch func(guids []string) (map[string]V, error)
	m     map[string]V
}

// NewCache returns an empty cache over fetch, which returns the values that
// exist among guids.
func NewCache[V any](fetch func(guids []string) (map[string]V, error)) *Cache[V] {
	return &Cache[V]{fetch: fetch, m: map[string]V{}}
}

// Load reads, in one fetch, the guids not read yet ("" is ignored).
func (c *Cache[V]) Load(guids []string) error {
	var missing []string
	var zero V
	for _, g := range guids {
		if _, ok := c.m[g]; !ok && g != "" {
			missing = append(missing, g)
			c.m[g] = zero
		}
	}
	if len(missing) == 0 {
		return nil
	}
	got, err := c.fetch(missing)
	if err != nil {
		for _, g := range missing {
			delete(c.m, g)
		}
		return err
	}
	for g, v := range got {
		c.m[g] = v
	}
	return nil
}

// Get returns guid's value, reading it first if needed.
func (c *Cache[V]) Get(guid string) (V, error) {
	if err := c.Load([]string{guid}); err != nil {
		var zero V
		return zero, err
	}
	return c.m[guid], nil
}

// Peek returns guid's value as cached, without reading.
func (c *Cache[V]) Peek(guid string) V { return c.m[guid] }

// Assume records v for guid without reading it, unless guid was read.
func (c *Cache[V]) Assume(guid string, v V) {
	if _, ok := c.m[guid]; !ok {
		c.m[guid] = v
	}
}
