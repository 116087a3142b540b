//go:build !js

package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/internal/pgtest"
	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/server/sqlstore"
	"github.com/datacollect/datacollect/server/storetest"
	"github.com/datacollect/datacollect/wire"
)

func TestAuditVerify(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "dc.db")
		testAuditVerify(t, path, func(q string, args ...any) {
			db, err := sql.Open("sqlite", path)
			require.NoError(t, err)
			defer db.Close()
			_, err = db.Exec(q, args...)
			require.NoError(t, err)
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		testAuditVerify(t, dsn, func(q string, args ...any) {
			c, err := pgx.Connect(ctx, dsn)
			require.NoError(t, err)
			defer c.Close(ctx)
			_, err = c.Exec(ctx, q, args...)
			require.NoError(t, err)
		})
	})
}

// testAuditVerify: the chain of an app synced through the server is
// intact; an entry altered with raw SQL is named, with a non-zero exit.
func testAuditVerify(t *testing.T, db string, exec func(q string, args ...any)) {
	s, err := sqlstore.Open(ctx, db)
	require.NoError(t, err)
	hs := httptest.NewServer(server.New(s, server.Config{}, server.Options{}).Handler())
	tok, _ := login(t, s, hs.URL, "a1", "one@example.org")
	ev := func(guid, typ, entity, data string) string {
		return fmt.Sprintf(`{"guid":%q,"entityGuid":%q,"type":%q,"data":%s,`+
			`"timestamp":"2026-11-25T08:00:00.000Z","syncLevel":"LOCAL"}`, guid, entity, typ, data)
	}
	status, body := api(t, hs.URL, "POST", wire.PathPush, tok, "tablet-1", `{"events":[`+
		ev("e1", "create-individual", "p1", `{"name":"Ana"}`)+","+
		ev("e2", "create-individual", "p2", `{"name":"Ben"}`)+","+
		ev("e3", "update-individual", "p1", `{"name":"Ana Maria"}`)+`]}`)
	require.Equal(t, 200, status, "%s", body)
	hs.Close()
	_, audit, _, err := s.Pull(ctx, "a1", 0, 100)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(audit), 3)
	require.NoError(t, s.Close())

	run := func(args ...string) (string, error) {
		t.Helper()
		var out, errb bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errb}
		err := m.Run(ctx, append([]string{"audit", "verify", "-db", db}, args...))
		return out.String(), err
	}
	out, err := run("-app", "a1")
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("audit chain of a1: %d entries, intact\n", len(audit)), out)

	_, err = run("-app", "nope")
	assert.ErrorContains(t, err, "no app nope")
	_, err = run()
	assert.ErrorContains(t, err, "-app is required")
	err = (&Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}).Run(ctx, []string{"audit"})
	assert.ErrorContains(t, err, "usage")

	// The second entry moved to the next event, with raw SQL.
	bad := audit[1]
	exec(`UPDATE audit SET seq = seq + 1 WHERE id = $1`, bad.ID)
	out, err = run("-app", "a1")
	require.Error(t, err)
	want := fmt.Sprintf("audit chain of a1 broken at entry %d (event seq ", bad.ID)
	assert.True(t, strings.HasPrefix(out, want), "%s", out)
	assert.Contains(t, out, "guid "+bad.GUID+")")
	assert.Contains(t, err.Error(), want)
}

// TestAuditVerifyProgress: a progress line every 10,000 entries.
func TestAuditVerifyProgress(t *testing.T) {
	db := filepath.Join(t.TempDir(), "dc.db")
	s, err := sqlstore.Open(ctx, db)
	require.NoError(t, err)
	require.NoError(t, s.Push(ctx, "a1", func(tx dc.PushTx) error {
		for i := range auditProgressEvery + 5 {
			ev := storetest.Event(fmt.Sprintf("e%d", i), "p1", nil)
			if err := tx.Append(ev); err != nil {
				return err
			}
			if err := tx.AppendAudit(ev.Seq, storetest.Audit(fmt.Sprintf("a%d", i), ev)); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.Close())
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb}
	require.NoError(t, m.Run(ctx, []string{"audit", "verify", "-db", db, "-app", "a1"}))
	assert.Equal(t, "audit verify: 10000 entries checked\n", errb.String())
	assert.Equal(t, "audit chain of a1: 10005 entries, intact\n", out.String())
}
