package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// Duplicate detection: every entity the client writes carries its duplicate
// key (dc.Entity.DupKey) under the client's key configuration, and the
// store indexes it. Duplicates lists the keys that several entities share
// from that index, so it never reads every entity. Flagged duplicates are
// only reported: they never block a submission or a sync.

// dupKeysMeta is the store metadata key holding the fingerprint of the key
// configuration that the stored entities' keys were computed with.
const dupKeysMeta = "dup.keys"

// dupKeysVersion changes when core.DupKeys.Key's normalisation does, so
// that stores re-key their entities.
const dupKeysVersion = "1"

// rekeyChunk bounds the entity records re-keyed per commit.
const rekeyChunk = 500

// DuplicateGroup is a set of live entities that share a duplicate key and
// that no resolve-duplicate "keep" declared distinct from each other (see
// core.DuplicateGroup).
type DuplicateGroup struct {
	Key      string       `json:"key"`
	Entities []*dc.Entity `json:"entities"`
}

// dupKeyCounter is implemented by stores that count the entities per
// duplicate key from their index (store.Memory, the IndexedDB store).
type dupKeyCounter interface {
	DupKeyCounts(ctx context.Context) (map[string]int, error)
}

// SetDupKeys sets the compound keys that flag potential duplicates, per
// entity type (default core.DefaultDupKeys(); nil or empty flags none).
// Entities written from now on get keys under k; those stored under another
// configuration are re-keyed by the next Duplicates call.
func (c *Client) SetDupKeys(k core.DupKeys) {
	cp := make(core.DupKeys, len(k))
	for t, fields := range k {
		cp[t] = slices.Clone(fields)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dupKeys = cp
}

// keys returns the key configuration.
func (c *Client) keys() core.DupKeys {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dupKeys
}

// commit sets the duplicate key of every entity record b writes, under the
// client's configuration, then commits b. Every commit that writes entities
// goes through it.
func (c *Client) commit(ctx context.Context, b *dc.Batch) error {
	if len(b.Entities) > 0 {
		k := c.keys()
		for _, w := range b.Entities {
			if w.Record != nil && w.Record.Current != nil {
				w.Record.Current.DupKey = k.Key(w.Record.Current)
			}
		}
	}
	return c.store.Commit(ctx, b)
}

// Duplicates returns up to limit (0: all) groups of potential duplicates,
// sorted by key. It walks the store's duplicate-key index for the keys
// that two or more entities share and reads only those entities; it does
// not scan the entities' payloads. (After the key configuration changed,
// or on a database from before duplicate keys were indexed, the first call
// re-keys the stored entities once, which does read them all.)
//
// Tombstones never count, and a pair declared distinct by a
// resolve-duplicate "keep" is not a duplicate: an entity kept apart from
// every other of its key drops out, and a group needs two entities left.
func (c *Client) Duplicates(ctx context.Context, limit int) ([]DuplicateGroup, error) {
	if err := c.rekey(ctx); err != nil {
		return nil, fmt.Errorf("duplicates: %w", err)
	}
	counter, ok := c.store.(dupKeyCounter)
	if !ok {
		return nil, dc.Errorf(dc.EINTERNAL, "duplicates: the store has no duplicate-key index")
	}
	counts, err := counter.DupKeyCounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("duplicates: %w", err)
	}
	out := []DuplicateGroup{}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if counts[k] < 2 {
			continue
		}
		recs, err := c.store.ListEntities(ctx, dc.EntityQuery{DupKey: k})
		if err != nil {
			return nil, fmt.Errorf("duplicates: %w", err)
		}
		ents := make([]*dc.Entity, 0, len(recs))
		for _, r := range recs {
			ents = append(ents, r.Current)
		}
		if g := core.DuplicateGroup(ents); g != nil {
			out = append(out, DuplicateGroup{Key: k, Entities: g})
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// Conflicted returns the entities whose current state has open conflicts
// (resolved by resolve-conflict events), by guid, from the store's index.
func (c *Client) Conflicted(ctx context.Context) ([]*dc.Entity, error) {
	recs, err := c.store.ListEntities(ctx, dc.EntityQuery{Conflicted: true})
	if err != nil {
		return nil, fmt.Errorf("conflicted: %w", err)
	}
	out := make([]*dc.Entity, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Current)
	}
	return out, nil
}

// rekey makes every stored entity's duplicate key match the client's
// configuration, when the store's record of the configuration its keys
// were computed with (dupKeysMeta) differs: it reads every entity record
// once, rewrites those whose key changed, a chunk per commit, and then
// records the configuration. Other writers (another tab) make a chunk
// retry.
func (c *Client) rekey(ctx context.Context) error {
	k := c.keys()
	fp, err := dupKeysFingerprint(k)
	if err != nil {
		return err
	}
	stored, _, err := c.store.Meta(ctx, dupKeysMeta)
	if err != nil {
		return err
	}
	if bytes.Equal(stored, fp) {
		return nil
	}
	recs, err := c.store.ListEntities(ctx, dc.EntityQuery{})
	if err != nil {
		return err
	}
	var stale []string
	for _, r := range recs {
		if r.Current != nil && r.Current.DupKey != k.Key(r.Current) {
			stale = append(stale, r.GUID)
		}
	}
	for len(stale) > 0 {
		n := min(len(stale), rekeyChunk)
		if err := c.rekeyChunk(ctx, k, stale[:n]); err != nil {
			return err
		}
		stale = stale[n:]
	}
	return c.store.Commit(ctx, &dc.Batch{Meta: map[string][]byte{dupKeysMeta: fp}})
}

// rekeyChunk rewrites the records of guids whose key is stale, retrying
// when another writer got in between.
func (c *Client) rekeyChunk(ctx context.Context, k core.DupKeys, guids []string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	for attempt := 1; ; attempt++ {
		recs, err := c.store.Entities(ctx, guids)
		if err != nil {
			return err
		}
		b := &dc.Batch{}
		for _, g := range guids {
			r := recs[g]
			if r == nil || r.Current == nil {
				continue
			}
			if key := k.Key(r.Current); key != r.Current.DupKey {
				r.Current.DupKey = key
				b.Entities = append(b.Entities, dc.EntityWrite{Record: r, ExpectRev: r.Rev})
			}
		}
		if len(b.Entities) == 0 {
			return nil
		}
		err = c.store.Commit(ctx, b)
		if err == nil || dc.ErrorCode(err) != dc.ECONFLICT || attempt == maxAttempts {
			return err
		}
		if err := c.pause(ctx, attempt); err != nil {
			return err
		}
	}
}

// dupKeysFingerprint identifies a key configuration (and the version of
// the normalisation).
func dupKeysFingerprint(k core.DupKeys) ([]byte, error) {
	b, err := json.Marshal(k) // map keys sorted
	if err != nil {
		return nil, dc.Errorf(dc.EINTERNAL, "encode the duplicate keys: %v", err)
	}
	return append([]byte(dupKeysVersion+":"), b...), nil
}
