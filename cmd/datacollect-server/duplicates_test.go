//go:build !js

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datacollect/datacollect/internal/pgtest"
	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/server/sqlstore"
	"github.com/datacollect/datacollect/wire"
)

func TestDuplicates(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDuplicates(t, filepath.Join(t.TempDir(), "dc.db")) })
	t.Run("postgres", func(t *testing.T) { testDuplicates(t, pgtest.DSN(t)) })
}

func testDuplicates(t *testing.T, db string) {
	s, err := sqlstore.Open(ctx, db)
	require.NoError(t, err)
	hs := httptest.NewServer(server.New(s, server.Config{}, server.Options{}).Handler())
	tok, _ := login(t, s, hs.URL, "a1", "one@example.org")
	push := func(evs ...string) {
		t.Helper()
		status, body := api(t, hs.URL, "POST", wire.PathPush, tok, "tablet-1", `{"events":[`+strings.Join(evs, ",")+`]}`)
		require.Equal(t, 200, status, "%s", body)
	}
	ev := func(guid, typ, entity, data string) string {
		return fmt.Sprintf(`{"guid":%q,"entityGuid":%q,"type":%q,"data":%s,`+
			`"timestamp":"2026-11-25T08:00:00.000Z","syncLevel":"LOCAL"}`, guid, entity, typ, data)
	}
	push(ev("e1", "create-individual", "p1", `{"name":"Ana","nationalId":"AB 1"}`),
		ev("e2", "create-individual", "p2", `{"name":"Anna","nationalId":" ab  1"}`),
		ev("e3", "create-individual", "p3", `{"name":"Ben","nationalId":"X"}`))
	hs.Close()
	require.NoError(t, s.Close())

	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errb}
		require.NoError(t, m.Run(ctx, append([]string{"duplicates", "-db", db}, args...)), errb.String())
		return out.String()
	}
	text := run("-app", "a1")
	assert.Contains(t, text, "app a1: 1 groups of potential duplicates")
	assert.Contains(t, text, "individual|ab 1 (2 entities):")
	assert.Len(t, rows(text, "p1 "), 1)
	assert.Len(t, rows(text, "p2 "), 1)
	assert.NotContains(t, text, "p3")

	var got []struct {
		Key      string `json:"key"`
		Entities []struct {
			GUID string         `json:"guid"`
			Data map[string]any `json:"data"`
		} `json:"entities"`
	}
	require.NoError(t, json.Unmarshal([]byte(run("-app", "a1", "-json")), &got))
	require.Len(t, got, 1)
	assert.Equal(t, "individual|ab 1", got[0].Key)
	require.Len(t, got[0].Entities, 2)
	assert.Equal(t, "p1", got[0].Entities[0].GUID)
	assert.Equal(t, "Anna", got[0].Entities[1].Data["name"])
	assert.Equal(t, "app a2: no potential duplicates\n", run("-app", "a2"))
	assert.Equal(t, "[]\n", run("-app", "a2", "-json"))

	// Kept apart, the pair is no longer listed.
	s, err = sqlstore.Open(ctx, db)
	require.NoError(t, err)
	hs = httptest.NewServer(server.New(s, server.Config{}, server.Options{}).Handler())
	push(ev("e4", "resolve-duplicate", "p2", `{"duplicateGuid":"p1","action":"keep"}`))
	hs.Close()
	require.NoError(t, s.Close())
	assert.Equal(t, "app a1: no potential duplicates\n", run("-app", "a1"))

	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	assert.ErrorContains(t, m.Run(ctx, []string{"duplicates", "-db", db}), "-app")
	assert.ErrorContains(t, m.Run(ctx, []string{"duplicates", "-db", db, "-app", "a1", "-limit", "-1"}), "-limit")
	missing := filepath.Join(t.TempDir(), "none.db")
	assert.Error(t, m.Run(ctx, []string{"duplicates", "-db", missing, "-app", "a1"}))
	_, err = os.Stat(missing)
	assert.True(t, os.IsNotExist(err), "duplicates creates no database")
}
