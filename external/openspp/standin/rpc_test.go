//go:build !js

package standin

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// client speaks plain Odoo JSON-RPC, built by hand as an adapter would.
type client struct {
	t                 *testing.T
	url               string
	db, login, passwd string
	uid               int
	id                int
}

// rpcError is the "error" member of an answer.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Name      string         `json:"name"`
		Message   string         `json:"message"`
		Arguments []any          `json:"arguments"`
		Debug     string         `json:"debug"`
		Context   map[string]any `json:"context"`
	} `json:"data"`
}

func newClient(t *testing.T, s *Server) *client {
	c := &client{t: t, url: s.URL() + "/jsonrpc", db: s.DB(), login: s.Login(), passwd: s.Password()}
	uid := c.call("common", "authenticate", c.db, c.login, c.passwd, map[string]any{})
	n, ok := uid.(int)
	require.True(t, ok, "authenticate answered %v", uid)
	c.uid = n
	return c
}

// post sends one envelope and returns the HTTP status and decoded body.
func (c *client) post(service, method string, args ...any) (int, map[string]any, error) {
	c.id++
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": c.id,
		"params": map[string]any{"service": service, "method": method, "args": args}})
	require.NoError(c.t, err)
	resp, err := http.Post(c.url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	var v any
	require.NoError(c.t, decodeJSON(b, &v), "body %s", b)
	m, _ := v.(map[string]any)
	return resp.StatusCode, m, nil
}

// try returns a call's result or its error object.
func (c *client) try(service, method string, args ...any) (any, *rpcError) {
	c.t.Helper()
	status, m, err := c.post(service, method, args...)
	require.NoError(c.t, err)
	require.Equal(c.t, http.StatusOK, status)
	require.Equal(c.t, "2.0", m["jsonrpc"])
	require.Equal(c.t, c.id, m["id"])
	if e, ok := m["error"]; ok {
		b, _ := json.Marshal(e)
		var re rpcError
		require.NoError(c.t, json.Unmarshal(b, &re))
		return nil, &re
	}
	return m["result"], nil
}

func (c *client) call(service, method string, args ...any) any {
	c.t.Helper()
	res, err := c.try(service, method, args...)
	require.Nil(c.t, err, "%s.%s: %+v", service, method, err)
	return res
}

// exec runs execute_kw and fails the test on an error answer.
func (c *client) exec(model, method string, args []any, kw map[string]any) any {
	c.t.Helper()
	res, err := c.execErr(model, method, args, kw)
	require.Nil(c.t, err, "%s.%s: %+v", model, method, err)
	return res
}

func (c *client) execErr(model, method string, args []any, kw map[string]any) (any, *rpcError) {
	c.t.Helper()
	if args == nil {
		args = []any{}
	}
	if kw == nil {
		kw = map[string]any{}
	}
	return c.try("object", "execute_kw", c.db, c.uid, c.passwd, model, method, args, kw)
}

func (c *client) create(model string, vals map[string]any) int {
	c.t.Helper()
	id, ok := c.exec(model, "create", []any{vals}, nil).(int)
	require.True(c.t, ok)
	return id
}

func (c *client) searchRead(model string, domain []any, kw map[string]any) []map[string]any {
	c.t.Helper()
	res := c.exec(model, "search_read", []any{domain}, kw)
	list, ok := res.([]any)
	require.True(c.t, ok, "search_read answered %v", res)
	rows := make([]map[string]any, len(list))
	for i, r := range list {
		rows[i] = r.(map[string]any)
	}
	return rows
}

func (c *client) readOne(model string, id int, fields ...string) map[string]any {
	c.t.Helper()
	res := c.exec(model, "read", []any{[]any{id}}, map[string]any{"fields": fields})
	list := res.([]any)
	require.Len(c.t, list, 1)
	return list[0].(map[string]any)
}

// idOf looks a reference record up by name, as an adapter must.
func (c *client) idOf(model, field, name string) int {
	c.t.Helper()
	res := c.exec(model, "search", []any{[]any{[]any{field, "=", name}}}, map[string]any{"limit": 1})
	ids := res.([]any)
	require.Len(c.t, ids, 1, "%s %s=%s", model, field, name)
	return ids[0].(int)
}

func ids(rows []map[string]any) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = r["id"].(int)
	}
	return out
}
