package datacollect

import "context"

// Store is the client's durable state: events, entities, the audit log and
// sync metadata (cursors, counters, status), for one app on one device.
//
// Reads see a consistent snapshot per call. Writes go through Commit, which
// is optimistic: the caller reads, computes the new state in Go (possibly
// calling asynchronous browser APIs such as WebCrypto, which cannot run
// inside an IndexedDB transaction), then commits a Batch whose preconditions
// the store checks and whose writes it applies in ONE atomic transaction. A
// crash at any point leaves either all of a Batch or none of it. When a
// precondition fails Commit returns an *Error with code ECONFLICT and writes
// nothing; the caller re-reads and retries.
type Store interface {
	// Events returns the events with the given guids that exist, by guid.
	Events(ctx context.Context, guids []string) (map[string]*Event, error)
	// ListEvents returns events matching q in local insertion order.
	ListEvents(ctx context.Context, q EventQuery) ([]*Event, error)
	// CountEvents returns how many events match q (Limit is ignored).
	CountEvents(ctx context.Context, q EventQuery) (int, error)
	// Entities returns the entity records with the given guids that exist.
	Entities(ctx context.Context, guids []string) (map[string]*EntityRecord, error)
	// ListEntities returns the entity records matching q, ordered by guid.
	ListEntities(ctx context.Context, q EntityQuery) ([]*EntityRecord, error)
	// Audit returns audit entries, newest first.
	Audit(ctx context.Context, q AuditQuery) ([]*AuditEntry, error)
	// Meta returns the metadata value under key, or ok=false.
	Meta(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Commit checks b's preconditions and applies its writes atomically.
	Commit(ctx context.Context, b *Batch) error
	// Close releases the store. Later calls fail with ECLOSED.
	Close() error
}

// EventQuery selects events. Zero fields do not filter.
type EventQuery struct {
	EntityGUID string
	SyncLevel  SyncLevel
	// Confirmed selects the events the server confirmed (Seq > 0) with
	// Seq > AfterSeq, in Seq order; the other filters are then ignored.
	Confirmed bool
	AfterSeq  int64
	// Failed selects the events that carry a Failure (rejected by the server
	// or no longer applicable after a sync), in local order; EntityGUID and
	// SyncLevel are then ignored.
	Failed bool
	Limit  int
}

// EntityQuery selects entity records by their current state.
type EntityQuery struct {
	Type       EntityType
	ExternalID string
	// DupKey selects the entities whose current state has this duplicate
	// key (other filters are then ignored).
	DupKey string
	// Conflicted selects the entities whose current state has open
	// conflicts (other filters are then ignored).
	Conflicted bool
	Limit      int
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	EntityGUID string
	Limit      int
}

// Batch is one atomic write.
type Batch struct {
	// NewEvents are added; if any guid already exists the whole batch fails
	// with ECONFLICT. The store assigns each its LSeq.
	NewEvents []*Event
	// UpdatedEvents replace stored events of the same guid (sync bookkeeping).
	UpdatedEvents []*Event
	// Entities are written if their precondition holds.
	Entities []EntityWrite
	// Audit entries are appended; the store assigns their IDs.
	Audit []*AuditEntry
	// Meta values are set (a nil value deletes the key).
	Meta map[string][]byte
}

// EntityWrite writes an entity record if the stored record's revision is
// still ExpectRev (0: the record must not exist). The stored revision
// becomes ExpectRev+1. A record with neither a Confirmed nor a Current state
// deletes the stored record (the entity existed only through events that no
// longer count).
type EntityWrite struct {
	Record    *EntityRecord
	ExpectRev int64
}

// Gone reports whether the record has no state left: writing it deletes
// the stored record.
func (r *EntityRecord) Gone() bool { return r.Confirmed == nil && r.Current == nil }

// Empty reports whether b writes nothing.
func (b *Batch) Empty() bool {
	return len(b.NewEvents) == 0 && len(b.UpdatedEvents) == 0 && len(b.Entities) == 0 &&
		len(b.Audit) == 0 && len(b.Meta) == 0
}
