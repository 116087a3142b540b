package store

import (
	"context"
	"sort"
	"sync"

	dc "github.com/datacollect/datacollect"
)

// Memory is a Store held in memory. It is the reference implementation of the
// contract and backs the pure core's and the client's native tests.
type Memory struct {
	mu       sync.RWMutex
	closed   bool
	lseq     int64
	auditID  int64
	events   map[string]*dc.Event
	entities map[string]*dc.EntityRecord
	audit    []*dc.AuditEntry
	meta     map[string][]byte
	// The entity indexes: guids by duplicate key, and the guids of the
	// entities with open conflicts (both of the current state).
	byDupKey   map[string]map[string]struct{}
	conflicted map[string]struct{}
}

var _ dc.Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{
		events:     map[string]*dc.Event{},
		entities:   map[string]*dc.EntityRecord{},
		meta:       map[string][]byte{},
		byDupKey:   map[string]map[string]struct{}{},
		conflicted: map[string]struct{}{},
	}
}

func (m *Memory) rlock() (func(), error) {
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return nil, dc.Errorf(dc.ECLOSED, "store is closed")
	}
	return m.mu.RUnlock, nil
}

// Events implements dc.Store.
func (m *Memory) Events(_ context.Context, guids []string) (map[string]*dc.Event, error) {
	unlock, err := m.rlock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make(map[string]*dc.Event, len(guids))
	for _, g := range guids {
		if e, ok := m.events[g]; ok {
			out[g] = e.Clone()
		}
	}
	return out, nil
}

func (m *Memory) selectEvents(q dc.EventQuery) []*dc.Event {
	var out []*dc.Event
	for _, e := range m.events {
		if q.Confirmed {
			if e.Seq == 0 || e.Seq <= q.AfterSeq {
				continue
			}
		} else if q.Failed {
			if e.Failure == nil {
				continue
			}
		} else if (q.EntityGUID != "" && e.EntityGUID != q.EntityGUID) ||
			(q.SyncLevel != "" && e.SyncLevel != q.SyncLevel) {
			continue
		}
		out = append(out, e)
	}
	if q.Confirmed {
		sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	} else {
		sort.Slice(out, func(i, j int) bool { return out[i].LSeq < out[j].LSeq })
	}
	return out
}

// ListEvents implements dc.Store.
func (m *Memory) ListEvents(_ context.Context, q dc.EventQuery) ([]*dc.Event, error) {
	unlock, err := m.rlock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	sel := m.selectEvents(q)
	if q.Limit > 0 && len(sel) > q.Limit {
		sel = sel[:q.Limit]
	}
	out := make([]*dc.Event, len(sel))
	for i, e := range sel {
		out[i] = e.Clone()
	}
	return out, nil
}

// CountEvents implements dc.Store.
func (m *Memory) CountEvents(_ context.Context, q dc.EventQuery) (int, error) {
	unlock, err := m.rlock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	return len(m.selectEvents(q)), nil
}

// Entities implements dc.Store.
func (m *Memory) Entities(_ context.Context, guids []string) (map[string]*dc.EntityRecord, error) {
	unlock, err := m.rlock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make(map[string]*dc.EntityRecord, len(guids))
	for _, g := range guids {
		if r, ok := m.entities[g]; ok {
			out[g] = r.Clone()
		}
	}
	return out, nil
}

// ListEntities implements dc.Store. The DupKey and Conflicted queries read
// the store's indexes.
func (m *Memory) ListEntities(_ context.Context, q dc.EntityQuery) ([]*dc.EntityRecord, error) {
	unlock, err := m.rlock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var guids []string
	indexed := true
	switch {
	case q.DupKey != "":
		guids = dc.SortedKeys(m.byDupKey[q.DupKey])
	case q.Conflicted:
		guids = dc.SortedKeys(m.conflicted)
	default:
		guids, indexed = dc.SortedKeys(m.entities), false
	}
	var out []*dc.EntityRecord
	for _, g := range guids {
		r := m.entities[g]
		if !indexed && q.Type != "" && r.Current.Type != q.Type {
			continue
		}
		if !indexed && q.ExternalID != "" && r.Current.ExternalID != q.ExternalID {
			continue
		}
		out = append(out, r.Clone())
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// DupKeyCounts returns, for each duplicate key that two or more entities'
// current states share, how many do. It reads the duplicate-key index only
// (keys held by one entity, which cannot be duplicates, are left out).
func (m *Memory) DupKeyCounts(context.Context) (map[string]int, error) {
	unlock, err := m.rlock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := map[string]int{}
	for k, gs := range m.byDupKey {
		if len(gs) > 1 {
			out[k] = len(gs)
		}
	}
	return out, nil
}

// index moves the entity record r (nil: none) in the indexes, from the
// place of its previous state old (nil: none).
func (m *Memory) index(old, r *dc.EntityRecord) {
	if old != nil && old.Current != nil {
		if k := old.Current.DupKey; k != "" {
			delete(m.byDupKey[k], old.GUID)
			if len(m.byDupKey[k]) == 0 {
				delete(m.byDupKey, k)
			}
		}
		delete(m.conflicted, old.GUID)
	}
	if r == nil || r.Current == nil {
		return
	}
	if k := r.Current.DupKey; k != "" {
		if m.byDupKey[k] == nil {
			m.byDupKey[k] = map[string]struct{}{}
		}
		m.byDupKey[k][r.GUID] = struct{}{}
	}
	if len(r.Current.Conflicts) > 0 {
		m.conflicted[r.GUID] = struct{}{}
	}
}

// Audit implements dc.Store.
func (m *Memory) Audit(_ context.Context, q dc.AuditQuery) ([]*dc.AuditEntry, error) {
	unlock, err := m.rlock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []*dc.AuditEntry
	for i := len(m.audit) - 1; i >= 0; i-- {
		a := m.audit[i]
		if q.EntityGUID != "" && a.EntityGUID != q.EntityGUID {
			continue
		}
		c := *a
		c.Changes = append([]dc.FieldChange(nil), a.Changes...)
		out = append(out, &c)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// Meta implements dc.Store.
func (m *Memory) Meta(_ context.Context, key string) ([]byte, bool, error) {
	unlock, err := m.rlock()
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	v, ok := m.meta[key]
	return append([]byte(nil), v...), ok, nil
}

// Commit implements dc.Store.
func (m *Memory) Commit(_ context.Context, b *dc.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return dc.Errorf(dc.ECLOSED, "store is closed")
	}
	// Check every precondition before writing anything.
	seen := map[string]bool{}
	for _, e := range b.NewEvents {
		if _, ok := m.events[e.GUID]; ok || seen[e.GUID] {
			return dc.Errorf(dc.ECONFLICT, "event %s already exists", e.GUID)
		}
		seen[e.GUID] = true
	}
	for _, e := range b.UpdatedEvents {
		if _, ok := m.events[e.GUID]; !ok && !seen[e.GUID] {
			return dc.Errorf(dc.ENOTFOUND, "event %s does not exist", e.GUID)
		}
	}
	seenEnt := map[string]bool{}
	for _, w := range b.Entities {
		g := w.Record.GUID
		if seenEnt[g] {
			return dc.Errorf(dc.EINVALID, "entity %s written twice in one batch", g)
		}
		seenEnt[g] = true
		var rev int64
		if r, ok := m.entities[g]; ok {
			rev = r.Rev
		}
		if rev != w.ExpectRev {
			return dc.Errorf(dc.ECONFLICT, "entity %s changed concurrently (revision %d, expected %d)", g, rev, w.ExpectRev)
		}
	}
	for _, e := range b.NewEvents {
		m.lseq++
		c := e.Clone()
		c.LSeq = m.lseq
		e.LSeq = m.lseq
		m.events[c.GUID] = c
	}
	for _, e := range b.UpdatedEvents {
		c := e.Clone()
		c.LSeq = m.events[e.GUID].LSeq
		m.events[c.GUID] = c
	}
	for _, w := range b.Entities {
		c := w.Record.Clone()
		c.Rev = w.ExpectRev + 1
		w.Record.Rev = c.Rev
		if c.Gone() {
			m.index(m.entities[c.GUID], nil)
			delete(m.entities, c.GUID)
			continue
		}
		m.index(m.entities[c.GUID], c)
		m.entities[c.GUID] = c
	}
	for _, a := range b.Audit {
		m.auditID++
		c := *a
		c.ID = m.auditID
		a.ID = m.auditID
		c.Changes = append([]dc.FieldChange(nil), a.Changes...)
		m.audit = append(m.audit, &c)
	}
	for k, v := range b.Meta {
		if v == nil {
			delete(m.meta, k)
		} else {
			m.meta[k] = append([]byte(nil), v...)
		}
	}
	return nil
}

// Close implements dc.Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
