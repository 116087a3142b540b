//go:build !js

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/external/openspp/standin"
	"github.com/datacollect/datacollect/server"
	"github.com/datacollect/datacollect/server/sqlstore"
)

// TestExternalCommands: external config stores the configuration without
// ever printing the secret, external-sync prints progress and a summary,
// external status shows the state.
func TestExternalCommands(t *testing.T) {
	const secret = "cli-s3cret-never-printed"
	srv := standin.Start(t, standin.Options{Seed: true, Password: secret})
	db := filepath.Join(t.TempDir(), "dc.db")
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb}
	// A household on the server, as a device would push it.
	s, err := sqlstore.Open(ctx, db)
	require.NoError(t, err)
	sv := server.New(s, server.Config{}, server.Options{})
	res, err := sv.Push(ctx, "a1", "u1", []*dc.Event{{GUID: "e1", EntityGUID: "g1", Type: core.CreateGroup,
		Timestamp: "2026-11-25T10:00:00.000Z", SyncLevel: dc.Local, Data: map[string]any{"name": "HH", "members": []any{
			map[string]any{"guid": "p1", "name": "Ana"}, map[string]any{"guid": "p2", "name": "Ben"}}}}})
	require.NoError(t, err)
	require.Equal(t, dc.PushAccepted, res[0].Status)
	sv.Close()
	require.NoError(t, s.Close())

	seen := ""
	t.Setenv("OPENSPP_SECRET", secret)
	require.NoError(t, m.Run(ctx, []string{"external", "config", "-db", db, "-app", "a1", "-adapter", "openspp",
		"-url", srv.URL(), "-database", srv.DB(), "-login", srv.Login(), "-secret-env", "OPENSPP_SECRET",
		"-field-map", "phone=phone,email=email", "-option", "group_kind=Household", "-page-size", "10"}))
	assert.Contains(t, out.String(), `"secret": "[REDACTED]"`)
	assert.Contains(t, out.String(), `"group_kind": "Household"`)
	secretFile := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte(secret+"\n"), 0o600))
	require.NoError(t, m.Run(ctx, []string{"external", "config", "-db", db, "-app", "a1",
		"-url", srv.URL(), "-database", srv.DB(), "-login", srv.Login(), "-secret-file", secretFile, "-page-size", "10"}))
	assert.Error(t, m.Run(ctx, []string{"external", "config", "-db", db, "-app", "a1", "-url", srv.URL(),
		"-database", srv.DB(), "-login", srv.Login(), "-secret-env", "NOT_SET_ANYWHERE"}))
	assert.Error(t, m.Run(ctx, []string{"external", "config", "-db", db, "-app", "a1", "-adapter", "nope", "-url", srv.URL()}))

	seen += out.String()
	out.Reset()
	require.NoError(t, m.Run(ctx, []string{"external-sync", "-db", db, "-app", "a1"}))
	assert.Contains(t, out.String(), "scan: 1/1")
	assert.Contains(t, out.String(), "push: 3/3")
	assert.Contains(t, out.String(), "pull: ")
	assert.Contains(t, out.String(), "app a1: pushed 3 (created 3, updated 0), failed 0")

	seen += out.String()
	out.Reset()
	require.NoError(t, m.Run(ctx, []string{"external", "status", "-db", db, "-app", "a1"}))
	assert.Contains(t, out.String(), "outbox: 0 pending, 0 failed")
	assert.Contains(t, out.String(), "last run")
	assert.Error(t, m.Run(ctx, []string{"external", "status", "-db", db, "-app", "other"}))
	assert.Error(t, m.Run(ctx, []string{"external-sync", "-db", db}))

	assert.NotContains(t, seen+out.String()+errb.String(), secret)
}
