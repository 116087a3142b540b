package datacollect

import (
	"context"
	"time"
)

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

	// PutRefreshToken stores a new refresh token (the start of a family,
	// at login). EINVALID without a hash, app, user or family; EEXISTS if
	// the hash is stored already.
	PutRefreshToken(ctx context.Context, t *RefreshToken) error
	// UseRefreshToken rotates a refresh token atomically: if the token of
	// hash is unused, unrevoked and unexpired at now, it becomes used at now
	// and next (its hash, expiry and creation set by the caller) is stored
	// in the same family, with the used token's app, user and email, in one
	// transaction. Of concurrent calls with one hash exactly one succeeds.
	// It returns the presented token as stored after the call. Errors:
	// ENOTFOUND for an unknown hash; ECONFLICT (with the token) when it was
	// used already, which the caller treats as theft; EUNAUTHORIZED (with
	// the token) when it is revoked or expired. Nothing is written on
	// error.
	UseRefreshToken(ctx context.Context, hash string, now time.Time, next *RefreshToken) (*RefreshToken, error)
	// RefreshToken returns the refresh token of hash, or ENOTFOUND.
	RefreshToken(ctx context.Context, hash string) (*RefreshToken, error)
	// RevokeFamily marks every unrevoked refresh token of family revoked at
	// now. Access tokens of the family are refused from then on (see
	// TokenRevoked).
	RevokeFamily(ctx context.Context, family string, now time.Time) error
	// RevokeToken puts an access token's id on the denylist until
	// expiresAt (after which the token is refused anyway and PruneTokens
	// may drop the row). Revoking it again keeps the later expiry.
	RevokeToken(ctx context.Context, jti string, expiresAt time.Time) error
	// TokenRevoked reports whether an access token must be refused: its id
	// jti is on the denylist, or its session (refresh-token family) has no
	// live token at now (revoked, expired or unknown).
	TokenRevoked(ctx context.Context, jti, family string, now time.Time) (bool, error)
	// PruneTokens deletes the refresh tokens and the denylist entries that
	// expired before now, and returns how many rows it deleted.
	PruneTokens(ctx context.Context, now time.Time) (int, error)

	// Close releases the store.
	Close() error
}

// RefreshToken is a refresh token as the server keeps it: never the token
// itself, only its SHA-256 hash (hex). A family is every token rotated from
// one login; it is the session that access tokens name (claim "sid").
type RefreshToken struct {
	Hash      string
	AppID     string
	UserID    string
	Email     string
	Family    string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when it was exchanged (zero: not yet), RevokedAt when its
	// family was revoked (zero: not).
	UsedAt    time.Time
	RevokedAt time.Time
}

// BrokenLink is the first entry of an app's audit log whose hash is not
// the chain's: the entry was altered, or one before it was removed or
// inserted. ID 0 (no entry) means that every entry chains but the app's
// recorded head is not the last entry's hash: entries were removed from
// the end (or the head was altered).
type BrokenLink struct {
	Seq  int64  `json:"seq"`  // the entry's event sequence number
	ID   int64  `json:"id"`   // the entry's store id
	GUID string `json:"guid"` // the entry's guid
	Want string `json:"want"` // the hash recomputed from the chain
	Got  string `json:"got"`  // the hash stored
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

// ExternalStore is the part of a server store that external sync (the
// server's outbox to external registries such as OpenSPP, and its pulls
// from them) keeps: per app, a configuration, an outbox cursor over the
// event log, a pull cursor, a lease and the outbox rows. server/sqlstore
// implements it; the suite in server/storetest checks it.
type ExternalStore interface {
	// PutExternalConfig inserts or replaces an app's configuration.
	// EINVALID without an app or an adapter.
	PutExternalConfig(ctx context.Context, c *ExternalConfig) error
	// ExternalConfig returns an app's configuration, or ENOTFOUND.
	ExternalConfig(ctx context.Context, app string) (*ExternalConfig, error)
	// ExternalConfigs returns every app's configuration, by app.
	ExternalConfigs(ctx context.Context) ([]*ExternalConfig, error)
	// ExternalState returns an app's cursors, last run and lease (the zero
	// state for an app never synced).
	ExternalState(ctx context.Context, app string) (*ExternalState, error)
	// SetExternalPullCursor stores the app's pull cursor; call it only once
	// the page it ends has been applied.
	SetExternalPullCursor(ctx context.Context, app, cursor string) error
	// SetExternalLastRun stores the app's last run summary (opaque JSON).
	SetExternalLastRun(ctx context.Context, app string, summary []byte) error
	// AcquireExternalLease takes (or, for the same owner, extends) the app's
	// external sync lease until now+ttl, atomically across every server
	// process on the database: it reports false, taking nothing, while
	// another owner holds an unexpired lease.
	AcquireExternalLease(ctx context.Context, app, owner string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseExternalLease gives the lease up if owner holds it.
	ReleaseExternalLease(ctx context.Context, app, owner string) error
	// ScanOutbox reads up to limit events of app after its outbox cursor
	// and, in ONE transaction, enqueues every entity they changed (the
	// event's entity and the entities of its audit entries) except for the
	// events skip reports, and advances the cursor past them. An entity
	// already queued becomes pending and due at now again, with its
	// attempts reset and its generation incremented. It returns how many
	// events it read and whether more follow.
	ScanOutbox(ctx context.Context, app string, limit int, now time.Time, skip func(*Event) bool) (scanned int, more bool, err error)
	// DueOutbox returns up to limit pending rows of app due at now:
	// individuals (and other non-group entities) first, then groups, then
	// by entity guid.
	DueOutbox(ctx context.Context, app string, now time.Time, limit int) ([]*OutboxItem, error)
	// AckOutbox deletes the row of an entity delivered, unless it was
	// enqueued again (its generation is not gen any more).
	AckOutbox(ctx context.Context, app, guid string, gen int64) error
	// FailOutbox records a failed delivery: attempts+1, the error, the
	// status (pending or failed) and the next attempt. If the row was
	// enqueued again meanwhile (generation not gen) only the error and the
	// attempt count are recorded: it stays pending and due.
	FailOutbox(ctx context.Context, app, guid string, gen int64, f OutboxFailure) error
	// OutboxItems returns up to limit rows of app with status ("" for
	// any), by entity guid.
	OutboxItems(ctx context.Context, app, status string, limit int) ([]*OutboxItem, error)
	// OutboxCounts returns how many rows of app are pending and failed.
	OutboxCounts(ctx context.Context, app string) (pending, failed int, err error)
	// EntityByExternalID returns an entity of app linked to externalID
	// (the first by guid if several are), or nil.
	EntityByExternalID(ctx context.Context, app, externalID string) (*Entity, error)
	// RetryOutbox makes the failed rows of app (only those of guids, when
	// given) pending and due at now, and returns how many.
	RetryOutbox(ctx context.Context, app string, now time.Time, guids ...string) (int, error)
}

// ExternalConfig is an app's external sync configuration as stored. Config
// is the adapter's configuration (external.Config) in JSON, including its
// secret: it never leaves the server (see server's redaction).
type ExternalConfig struct {
	AppID   string
	Adapter string
	Config  []byte
	Enabled bool
	// Interval is how often serve's background loop syncs the app (0:
	// at the loop's own interval).
	Interval  time.Duration
	UpdatedAt time.Time
}

// ExternalState is an app's external sync bookkeeping.
type ExternalState struct {
	// OutboxCursor is the sequence number of the last event scanned.
	OutboxCursor int64
	// PullCursor is the adapter's opaque cursor after the last page
	// applied ("" before the first).
	PullCursor string
	// LastRun is the last run's summary (JSON), nil before the first.
	LastRun []byte
	// LeaseOwner holds the lease until LeaseUntil ("" and zero: nobody).
	LeaseOwner string
	LeaseUntil time.Time
}

// Outbox row statuses.
const (
	OutboxPending = "pending"
	OutboxFailed  = "failed"
)

// OutboxItem is one entity waiting for delivery to an app's external
// system.
type OutboxItem struct {
	EntityGUID string `json:"entityGuid"`
	Status     string `json:"status"`
	// Gen counts the times the entity was enqueued; an ack or a failure
	// names the generation it delivered.
	Gen         int64     `json:"-"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"nextAttempt"`
	LastCode    string    `json:"lastCode,omitempty"`
	LastMessage string    `json:"lastMessage,omitempty"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// OutboxFailure is a failed delivery as FailOutbox records it.
type OutboxFailure struct {
	Status      string // OutboxPending (retry at NextAttempt) or OutboxFailed
	NextAttempt time.Time
	Code        string
	Message     string
	Now         time.Time
}
