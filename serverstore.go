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
