//go:build !js

package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUserAddAndServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "dc.db")
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb}
	ctx := context.Background()
	require.NoError(t, m.Run(ctx, []string{"user", "add", "-db", db, "-app", "a1", "-email", "x@y.org", "-password", "long enough"}))
	assert.Contains(t, out.String(), "created sync user x@y.org of app a1")
	err := m.Run(ctx, []string{"user", "add", "-db", db, "-app", "a1", "-email", "X@y.org", "-password", "long enough"})
	assert.ErrorContains(t, err, "EEXISTS")
	err = m.Run(ctx, []string{"user", "add", "-db", db, "-app", "a1", "-email", "z@y.org", "-password", "short"})
	assert.ErrorContains(t, err, "8 characters")
	assert.Error(t, m.Run(ctx, []string{"bogus"}))
	assert.Error(t, m.Run(ctx, nil))

	// serve -demo creates the demo user once and answers /healthz.
	ready := make(chan string, 1)
	out.Reset()
	sctx, cancel := context.WithCancel(ctx)
	m = &Main{Stdout: &out, Stderr: &errb, Ready: ready}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(sctx, []string{"serve", "-addr", "127.0.0.1:0", "-db", db, "-web", "../..", "-demo"})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, errb.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	resp, err = http.Get("http://" + addr + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "Created the demo user.")
	assert.Contains(t, out.String(), "Demo login: app \"demo\"")
}
