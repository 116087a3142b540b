// Package client is the DataCollect client service: it records form
// submissions as events, applies them to entities with the shared core
// applier and keeps everything in a datacollect.Store, atomically. It is plain
// Go (no syscall/js): the browser bindings in package syncjs wrap it, and its
// tests run natively against the in-memory store and in Chromium against
// IndexedDB.
package client

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// Options configure a Client. Zero values get defaults.
type Options struct {
	// UserID is recorded on every event and audit entry (default "local").
	UserID string
	// Now is the clock (default time.Now). Tests inject a fixed clock.
	Now func() time.Time
	// NewGUID makes guids (default random UUIDv4).
	NewGUID func() string
	// Applier applies events (default core.NewApplier()); register custom
	// event types on it before creating the client.
	Applier *core.Applier
}

// Client records and reads data for one app on one device.
type Client struct {
	store   dc.Store
	applier *core.Applier
	now     func() time.Time
	newGUID func() string

	writeMu sync.Mutex
	rand    *rand.Rand
	syncs   flight
	origin  origin // what new events are stamped with (origin.go)

	mu        sync.Mutex
	userID    string
	dupKeys   core.DupKeys // duplicate-key configuration (dup.go)
	listeners map[int]func(Change)
	nextID    int
}

// Change tells listeners which entities a commit changed, with their new
// state.
type Change struct {
	Entities []*dc.Entity
	// Local is true for changes recorded on this device (submitted forms),
	// false for changes a pull brought.
	Local bool
}

// New returns a Client over s.
func New(s dc.Store, o Options) *Client {
	c := &Client{store: s, applier: o.Applier, now: o.Now, newGUID: o.NewGUID, userID: o.UserID,
		listeners: map[int]func(Change){}, rand: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	if c.applier == nil {
		c.applier = core.NewApplier()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.newGUID == nil {
		c.newGUID = func() string { return uuid.NewString() }
	}
	if c.userID == "" {
		c.userID = "local"
	}
	c.dupKeys = core.DefaultDupKeys()
	return c
}

// Store returns the client's store.
func (c *Client) Store() dc.Store { return c.store }

// Applier returns the client's event applier.
func (c *Client) Applier() *core.Applier { return c.applier }

// SetUser sets the user recorded on new events.
func (c *Client) SetUser(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.userID = id
}

func (c *Client) user() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userID
}

// Subscribe registers fn to be called after every commit that changed
// entities. It returns a function that unsubscribes.
func (c *Client) Subscribe(fn func(Change)) (unsubscribe func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nextID
	c.nextID++
	c.listeners[id] = fn
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.listeners, id)
	}
}

func (c *Client) notify(ch Change) {
	if len(ch.Entities) == 0 {
		return
	}
	c.mu.Lock()
	fns := make([]func(Change), 0, len(c.listeners))
	for _, id := range slices.Sorted(maps.Keys(c.listeners)) {
		fns = append(fns, c.listeners[id])
	}
	c.mu.Unlock()
	for _, fn := range fns {
		fn(ch)
	}
}

// Entity returns the current state of an entity, or nil if there is none.
func (c *Client) Entity(ctx context.Context, guid string) (*dc.Entity, error) {
	recs, err := c.store.Entities(ctx, []string{guid})
	if err != nil {
		return nil, fmt.Errorf("get entity: %w", err)
	}
	if r := recs[guid]; r != nil {
		return r.Current, nil
	}
	return nil, nil
}

// EntityRecord returns an entity as last confirmed and as it is now.
func (c *Client) EntityRecord(ctx context.Context, guid string) (*dc.EntityRecord, error) {
	recs, err := c.store.Entities(ctx, []string{guid})
	if err != nil {
		return nil, fmt.Errorf("get entity: %w", err)
	}
	return recs[guid], nil
}

// EntityFilter selects entities for ListEntities.
type EntityFilter struct {
	Type           dc.EntityType
	ExternalID     string
	IncludeDeleted bool
	Limit          int
}

// ListEntities returns current entities ordered by guid; tombstones only when
// asked for.
func (c *Client) ListEntities(ctx context.Context, f EntityFilter) ([]*dc.Entity, error) {
	if f.Type != "" && f.Type != dc.Individual && f.Type != dc.Group {
		return nil, dc.Errorf(dc.EINVALID, "unknown entity type %q", f.Type)
	}
	q := dc.EntityQuery{Type: f.Type, ExternalID: f.ExternalID}
	if f.IncludeDeleted {
		q.Limit = f.Limit
	}
	recs, err := c.store.ListEntities(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list entities: %w", err)
	}
	out := make([]*dc.Entity, 0, len(recs))
	for _, r := range recs {
		if r.Current.Deleted && !f.IncludeDeleted {
			continue
		}
		out = append(out, r.Current)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// ListEvents returns events in the order they were recorded on this device.
func (c *Client) ListEvents(ctx context.Context, q dc.EventQuery) ([]*dc.Event, error) {
	if q.SyncLevel != "" && !q.SyncLevel.Valid() {
		return nil, dc.Errorf(dc.EINVALID, "unknown sync level %q", q.SyncLevel)
	}
	evs, err := c.store.ListEvents(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return evs, nil
}

// AuditLog returns audit entries, newest first.
func (c *Client) AuditLog(ctx context.Context, q dc.AuditQuery) ([]*dc.AuditEntry, error) {
	as, err := c.store.Audit(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return as, nil
}

// Close closes the store.
func (c *Client) Close() error { return c.store.Close() }
