package datacollect

import "context"

// ServerStore is the sync server's durable state: every app's events (the
// order of record), the entities they build, audit entries, users and the
// server's signing secret. Implementations: SQLite (embedded, the default)
// and PostgreSQL (several stateless server processes on one database). Both
// pass the conformance suite in server/storetest.
type ServerStore interface {
	// Push runs fn in ONE write transaction for app and commits it durably
	// when fn returns nil (nothing is written when fn fails). Push
	// transactions of one app are serialised, and sequence numbers are
	// assigned inside them, so a sequence number becomes visible to Pull only
	// after every smaller one of the app: a puller can never skip a write
	// that commits late.
	Push(ctx context.Context, app string, fn func(tx PushTx) error) error
	// Pull returns up to limit events of app with Seq > since, in Seq order,
	// the audit entries of those events, and whether more events follow.
	Pull(ctx context.Context, app string, since int64, limit int) (events []*Event, audit []*AuditEntry, hasMore bool, err error)
	// CountAfter returns how many events of app have Seq > since.
	CountAfter(ctx context.Context, app string, since int64) (int, error)
	// Entity returns an entity of app as the server holds it, or nil.
	Entity(ctx context.Context, app, guid string) (*Entity, error)

	// AppendSyncLog stores audited sync operations of app in one
	// transaction, assigning each entry's ID the app's next sync-log number,
	// in order.
	AppendSyncLog(ctx context.Context, app string, entries ...*AuditEntry) error
	// SyncLog returns up to limit sync-log entries of app with ID > after,
	// ID ascending; with affecting set, only those with Entities > 0 or
	// Status "error"; with device set, only that device's.
	SyncLog(ctx context.Context, app string, q SyncLogQuery) ([]*AuditEntry, error)
	// PutDevice inserts or replaces a device's last report.
	PutDevice(ctx context.Context, d *Device) error
	// Devices returns the app's devices, by device ID.
	Devices(ctx context.Context, app string) ([]*Device, error)

	// CreateUser adds a user; EEXISTS if the app already has the email.
	CreateUser(ctx context.Context, u *User) error
	// UserByEmail returns the app's user with that email, or ENOTFOUND.
	UserByEmail(ctx context.Context, app, email string) (*User, error)

	// Secret returns the server's signing secret, creating it (from
	// generate) the first time; every server process on the database gets
	// the same one.
	Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error)

	// Close releases the store.
	Close() error
}

// PushTx is the view of one app inside a Push transaction.
type PushTx interface {
	// Events returns the stored events with the given guids (with Seq).
	Events(guids []string) (map[string]*Event, error)
	// Entities returns the stored entities with the given guids.
	Entities(guids []string) (map[string]*Entity, error)
	// NextSeq returns the sequence number the next Append assigns (the
	// applier stamps what an event writes with it before it is appended).
	NextSeq() int64
	// Append stores a new event, assigning ev.Seq the app's next sequence
	// number.
	Append(ev *Event) error
	// PutEntity inserts or replaces an entity.
	PutEntity(e *Entity) error
	// AppendAudit stores an audit entry of the event with sequence seq.
	// A store that chains the app's entries (see AuditEntry.Hash) sets
	// a.Hash, in the order of the calls: the chain is checked in the order
	// of pulls, (seq, insertion), so append an event's entries after it.
	AppendAudit(seq int64, a *AuditEntry) error
	// AppendSyncLog stores the push's own sync-log entry with the events
	// (see ServerStore.AppendSyncLog), assigning a.ID.
	AppendSyncLog(a *AuditEntry) error
}

// User is a person who may sync an app's data.
type User struct {
	ID           string `json:"id"`
	AppID        string `json:"appId"`
	Email        string `json:"email"`
	PasswordHash string `json:"-"`
	// Role is "sync" (a field worker's device) or "admin".
	Role      string `json:"role"`
	CreatedAt string `json:"createdAt"`
}

// Roles.
const (
	RoleSync  = "sync"
	RoleAdmin = "admin"
)

// SyncLogQuery selects server sync-log entries.
type SyncLogQuery struct {
	After     int64
	Limit     int
	DeviceID  string
	Affecting bool
}
