//go:build !js

package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/httpsync"
	"github.com/datacollect/datacollect/internal/pgtest"
	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/server/sqlstore"
	"github.com/datacollect/datacollect/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// clock is a settable clock shared by the server and clients of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a real server over a real database, served by httptest.
type env struct {
	t       *testing.T
	store   dc.ServerStore
	server  *server.Server
	handler http.Handler // the server's handler
	http    *httptest.Server
	clock   *clock
	n       atomic.Int64
}

// backends runs fn once per server store.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			var dsn string
			if kind == "sqlite" {
				dsn = filepath.Join(t.TempDir(), "server.db")
			} else {
				dsn = pgtest.DSN(t)
			}
			fn(t, newEnv(t, dsn))
		})
	}
}

func newEnv(t *testing.T, dsn string) *env {
	e := newBenchEnv(t, dsn)
	e.t = t
	e.http.Config.Handler = http.HandlerFunc(e.serveFlushed)
	return e
}

// serveFlushed serves a request, then waits until the server's sync-log
// entries are written before answering: the tests read the sync log right
// after a pull, whose entry the server writes in the background.
func (e *env) serveFlushed(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, r)
	e.server.FlushSyncLog()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// newBenchEnv is newEnv for tests and benchmarks; the server's clock is
// settable, and its body limit 1 MiB.
func newBenchEnv(tb testing.TB, dsn string) *env {
	s, err := sqlstore.Open(ctx, dsn)
	require.NoError(tb, err)
	e := &env{store: s, clock: &clock{t: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)}}
	e.server = server.New(s, server.Config{MaxBodyBytes: 1 << 20, TokenTTL: time.Hour}, server.Options{Now: e.clock.Now})
	e.handler = e.server.Handler()
	e.http = httptest.NewServer(e.handler)
	tb.Cleanup(func() {
		e.http.Close()
		_ = s.Close()
	})
	return e
}

// newServerOver replaces e's server with one over s (a wrapped store), on
// the same HTTP address.
func newServerOver(e *env, s dc.ServerStore) *server.Server {
	srv := server.New(s, server.Config{MaxBodyBytes: 1 << 20, TokenTTL: time.Hour}, server.Options{Now: e.clock.Now})
	e.server, e.handler = srv, srv.Handler()
	if e.t == nil { // a benchmark's env
		e.http.Config.Handler = e.handler
	}
	return srv
}

// userB creates a user for a benchmark.
func (e *env) userB(tb testing.TB, app string) (string, string) {
	email := fmt.Sprintf("worker%d@%s.example", e.n.Add(1), app)
	_, err := server.CreateUser(ctx, e.store, app, email, "correct horse", dc.RoleSync, e.clock.Now())
	require.NoError(tb, err)
	return email, "correct horse"
}

// user creates a sync user of app and returns its email and password.
func (e *env) user(app string) (string, string) { return e.userB(e.t, app) }

// device is a client with its own in-memory store and a logged-in
// transport.
type device struct {
	*client.Client
	tr *httpsync.Client
}

func (e *env) device(app string) *device {
	email, pw := e.user(app)
	tr := &httpsync.Client{BaseURL: e.http.URL, AppID: app, ClientID: fmt.Sprintf("dev-%d", e.n.Add(1)), Gzip: true}
	login, err := tr.Login(ctx, email, pw)
	require.NoError(e.t, err)
	c := client.New(store.NewMemory(), client.Options{UserID: login.UserID, Now: e.clock.Now})
	return &device{Client: c, tr: tr}
}

func (d *device) sync(t *testing.T) client.SyncResult {
	t.Helper()
	res, err := d.Sync(ctx, d.tr, client.SyncOptions{})
	require.NoError(t, err)
	return res
}

func (d *device) submit(t *testing.T, f client.Form) *dc.Event {
	t.Helper()
	ev, err := d.SubmitForm(ctx, f)
	require.NoError(t, err)
	return ev
}

// entities returns the device's current entities by guid.
func (d *device) entities(t *testing.T) map[string]*dc.Entity {
	t.Helper()
	recs, err := d.Store().ListEntities(ctx, dc.EntityQuery{})
	require.NoError(t, err)
	out := map[string]*dc.Entity{}
	for _, r := range recs {
		out[r.GUID] = r.Current
	}
	return out
}

// serverEntities returns the server's entities for the guids the device has.
func (e *env) serverEntities(t *testing.T, app string, guids map[string]*dc.Entity) map[string]*dc.Entity {
	t.Helper()
	out := map[string]*dc.Entity{}
	for g := range guids {
		se, err := e.store.Entity(ctx, app, g)
		require.NoError(t, err)
		if se != nil {
			out[g] = se
		}
	}
	return out
}
