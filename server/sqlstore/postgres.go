//go:build !js

package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgMaxConns bounds by default the connections one Store opens to
// PostgreSQL; the DSN parameter pool_max_conns (as pgxpool names it) sets
// another bound.
const pgMaxConns = 16

// pgCheckIdle is how long a connection may be idle before it is pinged
// when it is taken again: the server may have closed it meanwhile.
const pgCheckIdle = 30 * time.Second

// pgBackend is a PostgreSQL database through pgx, with a small pool of
// connections (pgx's own pool needs a module this one does not require).
// Every connection has synchronous_commit on, whatever the server's default,
// so that a commit returns only once its WAL is flushed. Statements are
// prepared once per connection by pgx's statement cache.
//
// Pushes of one app waiting for its row lock each hold a connection: while
// all the pool's connections wait so, other calls wait for one.
type pgBackend struct {
	cfg   *pgx.ConnConfig
	slots chan struct{} // one token per connection in use or opening

	mu     sync.Mutex
	idle   []idleConn
	closed bool
}

type idleConn struct {
	c     *pgx.Conn
	since time.Time
}

func openPgBackend(ctx context.Context, dsn string) (*pgBackend, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	maxConns := pgMaxConns
	if v, ok := cfg.RuntimeParams["pool_max_conns"]; ok {
		delete(cfg.RuntimeParams, "pool_max_conns")
		if maxConns, err = strconv.Atoi(v); err != nil || maxConns < 1 {
			return nil, fmt.Errorf("pool_max_conns %q is not a positive integer", v)
		}
	}
	cfg.RuntimeParams["synchronous_commit"] = "on"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "datacollect"
	}
	b := &pgBackend{cfg: cfg, slots: make(chan struct{}, maxConns)}
	// Connect once now, so that a wrong DSN fails Open.
	c, err := b.acquire(ctx)
	if err != nil {
		return nil, err
	}
	b.release(c)
	return b, nil
}

// acquire returns an idle connection or opens one, waiting while the
// pool's connections are all in use.
func (b *pgBackend) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			<-b.slots
			return nil, errBackendClosed
		}
		n := len(b.idle)
		if n == 0 {
			break
		}
		ic := b.idle[n-1]
		b.idle = b.idle[:n-1]
		b.mu.Unlock()
		if time.Since(ic.since) < pgCheckIdle || ic.c.Ping(ctx) == nil {
			return ic.c, nil
		}
		_ = ic.c.Close(context.Background())
	}
	b.mu.Unlock()
	c, err := pgx.ConnectConfig(ctx, b.cfg)
	if err != nil {
		<-b.slots
		return nil, err
	}
	return c, nil
}

// release returns c to the pool, or closes it if it is broken, still in a
// transaction or the pool is closed.
func (b *pgBackend) release(c *pgx.Conn) {
	defer func() { <-b.slots }()
	b.mu.Lock()
	if !b.closed && !c.IsClosed() && c.PgConn().TxStatus() == 'I' {
		b.idle = append(b.idle, idleConn{c, time.Now()})
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	_ = c.Close(context.Background())
}

// ready does nothing: pgx prepares statements on first use.
func (b *pgBackend) ready(context.Context) error { return nil }

var errBackendClosed = errors.New("the database is closed")

func (b *pgBackend) close() error {
	b.mu.Lock()
	idle := b.idle
	b.idle, b.closed = nil, true
	b.mu.Unlock()
	var err error
	for _, ic := range idle {
		err = errors.Join(err, ic.c.Close(context.Background()))
	}
	return err
}

func (b *pgBackend) exec(ctx context.Context, q string, args ...any) (int64, error) {
	c, err := b.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer b.release(c)
	return pgExec(ctx, c, q, args)
}

func (b *pgBackend) query(ctx context.Context, q string, args ...any) (rows, error) {
	c, err := b.acquire(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.Query(ctx, q, args...)
	if err != nil {
		b.release(c)
		return nil, err
	}
	return &pgRows{Rows: r, done: func() { b.release(c) }}, nil
}

func (b *pgBackend) queryRow(ctx context.Context, q string, args ...any) row {
	r, err := b.query(ctx, q, args...)
	if err != nil {
		return errRow{err}
	}
	return pgRow{r}
}

func (b *pgBackend) begin(ctx context.Context, write bool) (tx, error) {
	c, err := b.acquire(ctx)
	if err != nil {
		return nil, err
	}
	// Writers see the latest committed rows (READ COMMITTED: the row lock
	// that serialises an app's pushes waits for the previous one and then
	// reads its result); readers see one snapshot.
	opts := pgx.TxOptions{}
	if !write {
		opts = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	}
	t, err := c.BeginTx(ctx, opts)
	if err != nil {
		b.release(c)
		return nil, err
	}
	return &pgTx{t: t, done: func() { b.release(c) }}, nil
}

// pgTx is a transaction on a pooled connection, which it releases when it
// ends.
type pgTx struct {
	t    pgx.Tx
	done func()
	// pending are the queued statements, sent with the next one.
	pending *pgx.Batch
}

// maxPending bounds the statements queued in a transaction.
const maxPending = 512

// queue queues the statement, to send it in one round trip with the next
// statement of the transaction.
func (t *pgTx) queue(ctx context.Context, q string, args ...any) error {
	if t.pending == nil {
		t.pending = &pgx.Batch{}
	}
	t.pending.Queue(q, args...)
	if t.pending.Len() >= maxPending {
		return t.flush(ctx)
	}
	return nil
}

// send sends the pending statements, then q if it is not "", in one round
// trip, and returns the rows q affected.
func (t *pgTx) send(ctx context.Context, q string, args ...any) (int64, error) {
	b := t.pending
	t.pending = nil
	if q != "" {
		b.Queue(q, args...)
	}
	br := t.t.SendBatch(ctx, b)
	var tag pgconn.CommandTag
	var err error
	for range b.Len() {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag.RowsAffected(), err
}

func (t *pgTx) flush(ctx context.Context) error {
	if t.pending == nil {
		return nil
	}
	_, err := t.send(ctx, "")
	return err
}

func (t *pgTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	if t.pending != nil {
		return t.send(ctx, q, args...)
	}
	tag, err := t.t.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (t *pgTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	r, err := t.t.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return &pgRows{Rows: r}, nil
}

func (t *pgTx) queryRow(ctx context.Context, q string, args ...any) row {
	r, err := t.query(ctx, q, args...)
	if err != nil {
		return errRow{err}
	}
	return pgRow{r}
}

func (t *pgTx) commit(ctx context.Context) error {
	err := t.flush(ctx)
	if err == nil {
		err = t.t.Commit(ctx)
	}
	if err != nil {
		_ = t.t.Rollback(context.Background())
	}
	t.end()
	return err
}

func (t *pgTx) rollback() {
	if t.done != nil {
		_ = t.t.Rollback(context.Background())
		t.end()
	}
}

func (t *pgTx) end() {
	if t.done != nil {
		t.done()
		t.done = nil
	}
}

func pgExec(ctx context.Context, c *pgx.Conn, q string, args []any) (int64, error) {
	tag, err := c.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

// pgRows are a query's rows; done, if set, releases their connection.
type pgRows struct {
	pgx.Rows
	done func()
}

func (r *pgRows) Close() {
	r.Rows.Close()
	if r.done != nil {
		r.done()
		r.done = nil
	}
}

// pgRow reads the first row of rows and closes them.
type pgRow struct{ r rows }

func (r pgRow) Scan(dest ...any) error {
	defer r.r.Close()
	if !r.r.Next() {
		if err := r.r.Err(); err != nil {
			return err
		}
		return errNoRows
	}
	if err := r.r.Scan(dest...); err != nil {
		return err
	}
	r.r.Close()
	return r.r.Err()
}
