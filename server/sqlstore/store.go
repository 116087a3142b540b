//go:build !js

// Package sqlstore is the sync server's durable store
// (datacollect.ServerStore) on SQL: an embedded SQLite file, the default, or
// a PostgreSQL database shared by several server processes. Both run the
// same SQL and pass the conformance suite in server/storetest.
//
// Events, entities, audit entries, sync-log entries and device reports are
// kept as MessagePack payloads beside the clear columns that queries need.
// Every row is scoped by its app.
//
// Pushes of one app are serialised by the app's row in the apps table, which
// holds its last sequence number: a Push locks it first, takes the sequence
// numbers of its events from it and writes it back before committing, so
// that no reader can see sequence number N+1 before N is committed. In
// PostgreSQL the lock is that row's (pushes of different apps run
// concurrently); in SQLite the whole database's write lock (BEGIN
// IMMEDIATE), so all pushes are serialised. Commits are durable: SQLite runs
// in WAL mode with synchronous=FULL, PostgreSQL with synchronous_commit on.
package sqlstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	dc "github.com/datacollect/datacollect"
)

// Store is a datacollect.ServerStore on SQLite or PostgreSQL. It is safe for
// concurrent use.
type Store struct {
	db     backend
	closed atomic.Bool
}

var _ dc.ServerStore = (*Store)(nil)

// Open opens the store that dsn names: a PostgreSQL database for a
// "postgres://" or "postgresql://" URL, otherwise an SQLite database file
// (with an optional "sqlite:" prefix).
func Open(ctx context.Context, dsn string) (*Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return OpenPostgres(ctx, dsn)
	}
	return OpenSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
}

// OpenSQLite opens the SQLite database file at path, creating it and its
// directory if needed, and creates or upgrades its schema.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if !validSQLitePath(path) {
		return nil, dc.Errorf(dc.EINVALID, "SQLite database path %q: need a file path without '?' or '#'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, dc.Errorf(dc.ESTORE, "create the database's directory: %v", err)
	}
	// The file holds the signing secret and password hashes: create it
	// private (its -wal and -shm files take its permissions).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, dc.Errorf(dc.ESTORE, "open SQLite database %s: %v", path, err)
	}
	f.Close()
	b, err := openSQLiteBackend(ctx, path)
	if err != nil {
		return nil, dc.Errorf(dc.ESTORE, "open SQLite database %s: %v", path, err)
	}
	return open(ctx, b, sqliteDialect)
}

// OpenPostgres connects to the PostgreSQL database of dsn (a URL or
// key=value connection string, as libpq takes) and creates or upgrades its
// schema.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	b, err := openPgBackend(ctx, dsn)
	if err != nil {
		return nil, dc.Errorf(dc.ESTORE, "connect to PostgreSQL: %v", err)
	}
	return open(ctx, b, postgresDialect)
}

func open(ctx context.Context, b backend, d dialect) (*Store, error) {
	if err := migrate(ctx, b, d); err != nil {
		b.close()
		return nil, storeErr("migrate the schema", err)
	}
	if err := b.ready(ctx); err != nil {
		b.close()
		return nil, storeErr("prepare statements", err)
	}
	return &Store{db: b}, nil
}

// Close closes the store; every later call returns ECLOSED. Pushes in
// progress finish or fail.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.db.close(); err != nil {
		return dc.Errorf(dc.ESTORE, "close: %v", err)
	}
	return nil
}

func (s *Store) check() error {
	if s.closed.Load() {
		return errClosed
	}
	return nil
}

var errClosed = dc.Errorf(dc.ECLOSED, "store is closed")

// storeErr turns a database error into an ESTORE *datacollect.Error.
// Errors that already have a code pass unchanged.
func storeErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *dc.Error
	if errors.As(err, &e) {
		return err
	}
	return dc.Errorf(dc.ESTORE, "%s: %v", op, err)
}

// Push implements datacollect.ServerStore.
func (s *Store) Push(ctx context.Context, app string, fn func(tx dc.PushTx) error) error {
	if err := s.check(); err != nil {
		return err
	}
	if app == "" {
		return dc.Errorf(dc.EINVALID, "push: no app")
	}
	t, err := s.db.begin(ctx, true)
	if err != nil {
		return s.err("push: begin", err)
	}
	defer t.rollback()
	var seq int64
	if err := t.queryRow(ctx, qLockApp, app).Scan(&seq); err != nil {
		return s.err("push: lock the app", err)
	}
	p := &pushTx{ctx: ctx, s: s, t: t, app: app, seq: seq}
	if err := p.run(fn); err != nil {
		p.undo()
		return err
	}
	if err := p.finish(); err != nil {
		p.undo()
		return err
	}
	return nil
}

// Pull implements datacollect.ServerStore. A limit below 1 is EINVALID.
func (s *Store) Pull(ctx context.Context, app string, since int64, limit int) ([]*dc.Event, []*dc.AuditEntry, bool, error) {
	if err := s.check(); err != nil {
		return nil, nil, false, err
	}
	if limit < 1 {
		return nil, nil, false, dc.Errorf(dc.EINVALID, "pull: limit %d is not positive", limit)
	}
	// One snapshot for the events and their audit entries.
	t, err := s.db.begin(ctx, false)
	if err != nil {
		return nil, nil, false, s.err("pull: begin", err)
	}
	defer t.rollback()
	evs, err := records(ctx, t, decodeEvent, make([]*dc.Event, 0, min(limit, 1024)), qPullEvents, app, since, int64(limit)+1)
	if err != nil {
		return nil, nil, false, s.err("pull", err)
	}
	more := len(evs) > limit
	if more {
		evs = evs[:limit]
	}
	if len(evs) == 0 {
		return nil, nil, false, nil
	}
	// The audit entries of exactly those events, by seq then insertion.
	audit, err := records(ctx, t, decodeAudit, nil, qPullAudit, app, since, evs[len(evs)-1].Seq)
	if err != nil {
		return nil, nil, false, s.err("pull: audit", err)
	}
	return evs, audit, more, nil
}

// records runs query, whose rows are (number, payload), and appends to out
// what decode makes of each row.
func records[T any](ctx context.Context, q execer, decode func(n int64, b []byte) (T, error), out []T, query string, args ...any) ([]T, error) {
	r, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	for r.Next() {
		var n int64
		var b []byte
		if err := r.Scan(&n, &b); err != nil {
			return nil, err
		}
		v, err := decode(n, b)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, r.Err()
}

// CountAfter implements datacollect.ServerStore.
func (s *Store) CountAfter(ctx context.Context, app string, since int64) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var n int64
	if err := s.db.queryRow(ctx, qCount, app, since).Scan(&n); err != nil {
		return 0, s.err("count events", err)
	}
	return int(n), nil
}

// Entity implements datacollect.ServerStore.
func (s *Store) Entity(ctx context.Context, app, guid string) (*dc.Entity, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var b []byte
	err := s.db.queryRow(ctx, qEntity, app, guid).Scan(&b)
	if errors.Is(err, errNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.err("read entity", err)
	}
	return decodeEntity(0, b)
}

// CreateUser implements datacollect.ServerStore. It stores the email in
// lower case (and sets u.Email so), generates u.ID (a UUID) and
// u.CreatedAt when they are empty, and takes an empty role as RoleSync.
func (s *Store) CreateUser(ctx context.Context, u *dc.User) error {
	if err := s.check(); err != nil {
		return err
	}
	if u == nil || u.AppID == "" || strings.TrimSpace(u.Email) == "" {
		return dc.Errorf(dc.EINVALID, "create user: need an app and an email")
	}
	switch u.Role {
	case "":
		u.Role = dc.RoleSync
	case dc.RoleSync, dc.RoleAdmin:
	default:
		return dc.Errorf(dc.EINVALID, "create user: unknown role %q", u.Role)
	}
	u.Email = normEmail(u.Email)
	if u.ID == "" {
		u.ID = uuid.NewString()
	}
	if u.CreatedAt == "" {
		u.CreatedAt = dc.FormatTime(time.Now())
	}
	n, err := s.db.exec(ctx, qCreateUser, u.AppID, u.ID, u.Email, u.PasswordHash, u.Role, u.CreatedAt)
	if err != nil {
		return s.err("create user", err)
	}
	if n == 0 {
		return dc.Errorf(dc.EEXISTS, "app %s already has a user %s (or id %s)", u.AppID, u.Email, u.ID)
	}
	return nil
}

func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// UserByEmail implements datacollect.ServerStore; the email is compared
// case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, app, email string) (*dc.User, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	u := &dc.User{AppID: app}
	err := s.db.queryRow(ctx, qUserByEmail, app, normEmail(email)).Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &u.CreatedAt)
	if errors.Is(err, errNoRows) {
		return nil, dc.Errorf(dc.ENOTFOUND, "app %s has no user %s", app, email)
	}
	if err != nil {
		return nil, s.err("read user", err)
	}
	return u, nil
}

// Secret implements datacollect.ServerStore. Errors of generate are
// returned unchanged; an empty secret is EINVALID.
func (s *Store) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, dc.Errorf(dc.EINVALID, "secret: no name")
	}
	var v []byte
	err := s.db.queryRow(ctx, qSecret, name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, errNoRows) {
		return nil, s.err("read secret", err)
	}
	v, err = generate()
	if err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, dc.Errorf(dc.EINVALID, "secret %s: generated an empty secret", name)
	}
	// Another process may have created it meanwhile: the first one wins and
	// everybody reads it back.
	if _, err := s.db.exec(ctx, qPutSecret, name, v); err != nil {
		return nil, s.err("create secret", err)
	}
	if err := s.db.queryRow(ctx, qSecret, name).Scan(&v); err != nil {
		return nil, s.err("read secret", err)
	}
	return v, nil
}

// err is storeErr, but ECLOSED for a database error once the store is
// closed (a call that was under way when Close came).
func (s *Store) err(op string, err error) error {
	var e *dc.Error
	if s.closed.Load() && !errors.As(err, &e) {
		return errClosed
	}
	return storeErr(op, err)
}
