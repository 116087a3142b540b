//go:build !js

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"runtime"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// sqliteBackend is an SQLite database file in WAL mode, through two pools:
// one connection that writes (so the process's writers queue in Go, in
// order, instead of polling SQLite's busy handler) and several that only
// read (WAL readers never block the writer nor each other).
//
// Write transactions are BEGIN IMMEDIATE (DSN _txlock=immediate): they take
// the database's write lock when they start, so that writers of other
// processes on the same file wait for it (busy_timeout) instead of failing
// with SQLITE_BUSY on a lock upgrade. This serialises all Push transactions,
// of every app. Commits are durable: synchronous=FULL syncs the WAL on every
// commit (NORMAL would only sync it at checkpoints, and a power cut could
// lose the last acknowledged pushes).
type sqliteBackend struct {
	w, r *stmts
}

// sqliteParams are the connection settings of both pools.
var sqliteParams = url.Values{
	"_pragma": {"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)"},
}

func openSQLiteBackend(ctx context.Context, path string) (*sqliteBackend, error) {
	w := cloneValues(sqliteParams)
	w.Set("_txlock", "immediate")
	wdb, err := sql.Open("sqlite", path+"?"+w.Encode())
	if err != nil {
		return nil, err
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	// The writer's first connection turns WAL on before a reader opens.
	if err := wdb.PingContext(ctx); err != nil {
		wdb.Close()
		return nil, err
	}
	r := cloneValues(sqliteParams)
	r["_pragma"] = append(r["_pragma"], "query_only(1)")
	rdb, err := sql.Open("sqlite", path+"?"+r.Encode())
	if err != nil {
		wdb.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	return &sqliteBackend{w: newStmts(wdb), r: newStmts(rdb)}, nil
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// validSQLitePath rejects paths that the driver would read as a URI or as
// carrying connection parameters.
func validSQLitePath(path string) bool {
	return path != "" && path != ":memory:" && !strings.HasPrefix(path, "file:") && !strings.ContainsAny(path, "?#")
}

func (b *sqliteBackend) exec(ctx context.Context, q string, args ...any) (int64, error) {
	st, err := b.w.get(ctx, q)
	if err != nil {
		return 0, err
	}
	return rowsAffected(st.ExecContext(ctx, args...))
}

// query reads through the read pool; statements that write use exec.
func (b *sqliteBackend) query(ctx context.Context, q string, args ...any) (rows, error) {
	st, err := b.r.get(ctx, q)
	if err != nil {
		return nil, err
	}
	return sqlQuery(st.QueryContext(ctx, args...))
}

func (b *sqliteBackend) queryRow(ctx context.Context, q string, args ...any) row {
	st, err := b.r.get(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return sqlRow{st.QueryRowContext(ctx, args...)}
}

func (b *sqliteBackend) begin(ctx context.Context, write bool) (tx, error) {
	p := b.r
	if write {
		p = b.w
	}
	t, err := p.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: !write})
	if err != nil {
		return nil, err
	}
	return &sqlTx{t: t, stmts: p}, nil
}

// ready prepares the statements that transactions run, once the schema
// exists.
func (b *sqliteBackend) ready(ctx context.Context) error {
	write, read := txQueries()
	return errors.Join(b.w.prepare(ctx, write), b.r.prepare(ctx, read))
}

func (b *sqliteBackend) close() error {
	return errors.Join(b.r.close(), b.w.close())
}

// stmts is a pool of connections and its prepared statements: modernc's
// driver does not cache them, and preparing costs as much as running the
// small statements of a push. database/sql prepares a statement again on
// each connection that runs it.
type stmts struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt // the store's statements are few: constants and padded IN lists
}

func newStmts(db *sql.DB) *stmts { return &stmts{db: db, m: map[string]*sql.Stmt{}} }

// get returns q prepared, preparing it if needed. It must not be called
// in a transaction of the pool: preparing takes a connection of the pool,
// and the writer's only one would be the transaction's.
func (p *stmts) get(ctx context.Context, q string) (*sql.Stmt, error) {
	if st := p.cached(q); st != nil {
		return st, nil
	}
	st, err := p.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.m[q]; ok {
		st.Close()
		return old, nil
	}
	p.m[q] = st
	return st, nil
}

// cached returns q prepared, or nil if it was not.
func (p *stmts) cached(q string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[q]
}

// prepare prepares qs.
func (p *stmts) prepare(ctx context.Context, qs []string) error {
	for _, q := range qs {
		if _, err := p.get(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func (p *stmts) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	for _, st := range p.m {
		err = errors.Join(err, st.Close())
	}
	p.m = nil
	return errors.Join(err, p.db.Close())
}

// sqlTx is a database/sql transaction.
type sqlTx struct {
	t     *sql.Tx
	stmts *stmts
}

// conn is what *sql.Tx and *sql.Stmt have in common.
type conn interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

// stmt returns q prepared for the transaction if the pool has it prepared,
// else q to run in the transaction as it is.
func (t *sqlTx) stmt(ctx context.Context, q string) conn {
	if st := t.stmts.cached(q); st != nil {
		return t.t.StmtContext(ctx, st)
	}
	return txQuery{t.t, q}
}

// txQuery is a statement to run in a transaction without preparing it.
type txQuery struct {
	t *sql.Tx
	q string
}

func (q txQuery) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return q.t.ExecContext(ctx, q.q, args...)
}

func (q txQuery) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return q.t.QueryContext(ctx, q.q, args...)
}

func (q txQuery) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return q.t.QueryRowContext(ctx, q.q, args...)
}

func (t *sqlTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	return rowsAffected(t.stmt(ctx, q).ExecContext(ctx, args...))
}

// queue runs the statement now: SQLite has no round trips to save.
func (t *sqlTx) queue(ctx context.Context, q string, args ...any) error {
	_, err := t.exec(ctx, q, args...)
	return err
}

func (t *sqlTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	return sqlQuery(t.stmt(ctx, q).QueryContext(ctx, args...))
}

func (t *sqlTx) queryRow(ctx context.Context, q string, args ...any) row {
	return sqlRow{t.stmt(ctx, q).QueryRowContext(ctx, args...)}
}

func (t *sqlTx) commit(context.Context) error { return t.t.Commit() }

func (t *sqlTx) rollback() { _ = t.t.Rollback() }

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func sqlQuery(r *sql.Rows, err error) (rows, error) {
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoRows
	}
	return err
}
