//go:build !js

package sqlstore

import (
	"context"
	"errors"
)

// The store's SQL is the same for both databases (placeholders $1, $2, ...,
// ON CONFLICT, RETURNING); what differs is how it reaches the database:
// database/sql with modernc.org/sqlite, or pgx natively (pgx's database/sql
// adapter would pull in pgxpool's dependencies). A backend hides that.

// execer runs statements, in a transaction or on their own.
type execer interface {
	// exec runs a statement and returns the number of rows it affected.
	exec(ctx context.Context, sql string, args ...any) (int64, error)
	// query runs a query; the caller closes the rows.
	query(ctx context.Context, sql string, args ...any) (rows, error)
	// queryRow runs a query of at most one row; Scan returns errNoRows when
	// there is none.
	queryRow(ctx context.Context, sql string, args ...any) row
}

// rows iterates over a query's result.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// row is a query's single row.
type row interface {
	Scan(dest ...any) error
}

// tx is a transaction.
type tx interface {
	execer
	// queue runs a statement whose result nobody reads. It may run later,
	// with the transaction's next statement or its commit, which then
	// report its error.
	queue(ctx context.Context, sql string, args ...any) error
	commit(ctx context.Context) error
	// rollback ends the transaction if it is still open.
	rollback()
}

// backend is a database: statements on their own run in autocommit mode.
type backend interface {
	execer
	// begin starts a write transaction, or a read-only one that sees one
	// snapshot of the database.
	begin(ctx context.Context, write bool) (tx, error)
	// ready is called once the schema is up to date.
	ready(ctx context.Context) error
	close() error
}

// errNoRows is what row.Scan returns when the query found nothing.
var errNoRows = errors.New("no rows")

// errRow is a row that failed before it could be read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
