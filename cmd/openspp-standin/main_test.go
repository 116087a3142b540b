//go:build !js

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// start runs the command on a free port and returns its address.
func start(t *testing.T, args ...string) (string, *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Ready: ready}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...)) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	select {
	case addr := <-ready:
		return addr, &out
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, errb.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the stand-in did not start")
	}
	return "", nil
}

func rpc(t *testing.T, addr string, service, method string, args ...any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1,
		"params": map[string]any{"service": service, "method": method, "args": args}})
	resp, err := http.Post("http://"+addr+"/jsonrpc", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

func TestRun(t *testing.T) {
	data := filepath.Join(t.TempDir(), "openspp.json")
	addr, out := start(t, "-db", "demo", "-login", "me", "-password", "pw", "-data", data)
	assert.Contains(t, out.String(), "http://"+addr)

	assert.Equal(t, float64(2), rpc(t, addr, "common", "authenticate", "demo", "me", "pw", map[string]any{})["result"])
	assert.Equal(t, false, rpc(t, addr, "common", "authenticate", "demo", "me", "bad", map[string]any{})["result"])
	kinds := rpc(t, addr, "object", "execute_kw", "demo", 2, "pw", "g2p.group.kind", "search_read",
		[]any{[]any{}}, map[string]any{"fields": []any{"name"}})["result"].([]any)
	assert.Len(t, kinds, 2, "seeded")
	res := rpc(t, addr, "object", "execute_kw", "demo", 2, "pw", "res.partner", "create",
		[]any{map[string]any{"name": "A", "x_datacollect_guid": "g"}}, map[string]any{})
	assert.NotNil(t, res["result"], "%v", res["error"])
}

func TestRunFailRate(t *testing.T) {
	addr, _ := start(t, "-fail-rate", "1", "-fail-error", "odoo.exceptions.UserError")
	res := rpc(t, addr, "common", "version")
	e := res["error"].(map[string]any)["data"].(map[string]any)
	assert.Equal(t, "odoo.exceptions.UserError", e["name"])
}

func TestRunBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb}
	assert.Error(t, m.Run(context.Background(), []string{"-fail-rate", "2"}))
	assert.Error(t, m.Run(context.Background(), []string{"-nope"}))
	assert.Error(t, m.Run(context.Background(), []string{"extra"}))
	assert.True(t, strings.Contains(errb.String(), "-nope"))
}
