package openspp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/datacollect/datacollect/external"
	"github.com/datacollect/datacollect/internal/jsonx"
)

// client speaks Odoo JSON-RPC: POST {url}/jsonrpc.
type client struct {
	endpoint, db, login, secret string
	http                        *http.Client
	seq                         atomic.Int64

	mu  sync.Mutex // guards uid
	uid int
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"data"`
}

// call posts one JSON-RPC call and returns its decoded result (numbers as
// int when integral, else float64).
func (c *client) call(ctx context.Context, service, method string, args []any) (any, *rpcError, error) {
	body, err := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "method": "call", "id": c.seq.Add(1),
		"params": map[string]any{"service": service, "method": method, "args": args},
	})
	if err != nil {
		return nil, nil, external.Errorf(external.EVALIDATION, "encode request: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, nil, external.Errorf(external.ECONFIG, "bad URL: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, external.Errorf(external.ENETWORK, "%s.%s: %v", service, method, redact(err.Error(), c.secret))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, nil, external.Errorf(external.ENETWORK, "%s.%s: read answer: %v", service, method, err)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	jerr := json.Unmarshal(raw, &env)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, nil, external.Errorf(external.ECONFIG, "%s: HTTP 404: is the URL the Odoo base URL?", c.endpoint)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, nil, external.Errorf(external.ENETWORK, "%s.%s: HTTP %d", service, method, resp.StatusCode)
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, nil, &external.Error{Code: external.EAUTH, Message: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	case resp.StatusCode == http.StatusForbidden:
		return nil, nil, &external.Error{Code: external.EACCESS, Message: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		return nil, nil, external.Errorf(external.EREMOTE, "%s.%s: HTTP %d", service, method, resp.StatusCode)
	case jerr != nil:
		return nil, nil, external.Errorf(external.EREMOTE, "%s.%s: answer is not JSON-RPC: %v", service, method, jerr)
	case env.Error != nil:
		return nil, env.Error, nil
	}
	var out any
	dec := json.NewDecoder(bytes.NewReader(env.Result))
	dec.UseNumber()
	if len(env.Result) > 0 {
		if err := dec.Decode(&out); err != nil {
			return nil, nil, external.Errorf(external.EREMOTE, "%s.%s: bad result: %v", service, method, err)
		}
	}
	return jsonx.Normalize(out), nil, nil
}

// mapRPCError turns an Odoo error object into an *external.Error.
func mapRPCError(e *rpcError) *external.Error {
	name, msg := e.Data.Name, e.Data.Message
	if msg == "" {
		msg = e.Message
	}
	out := &external.Error{Remote: name, Message: msg}
	switch {
	case e.Code == 100:
		out.Code, out.Retryable = external.EAUTH, true
		if name == "" {
			out.Remote = "odoo.http.SessionExpiredException"
		}
	case e.Code == 404:
		out.Code = external.ECONFIG
	case name == "odoo.exceptions.AccessDenied":
		out.Code = external.EAUTH
	case name == "odoo.exceptions.AccessError":
		out.Code = external.EACCESS
	case name == "odoo.exceptions.ValidationError", name == "builtins.ValueError", name == "odoo.exceptions.UserError",
		name == "odoo.exceptions.MissingError":
		out.Code = external.EVALIDATION
	case strings.HasSuffix(name, "SerializationFailure"), strings.HasSuffix(name, "TransactionRollbackError"),
		strings.HasSuffix(name, "LockNotAvailable"):
		out.Code, out.Retryable = external.ENETWORK, true
	case name == "psycopg2.OperationalError" && strings.Contains(msg, "does not exist"):
		out.Code = external.ECONFIG
	case name == "psycopg2.OperationalError", strings.HasSuffix(name, "InterfaceError"):
		out.Code, out.Retryable = external.ENETWORK, true
	default:
		out.Code = external.EREMOTE
	}
	return out
}

// authenticate logs in and remembers the uid.
func (c *client) authenticate(ctx context.Context) (int, error) {
	res, rerr, err := c.call(ctx, "common", "authenticate", []any{c.db, c.login, c.secret, map[string]any{}})
	if err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, mapRPCError(rerr)
	}
	uid, ok := res.(int)
	if !ok || uid <= 0 {
		return 0, &external.Error{Code: external.EAUTH, Message: fmt.Sprintf("authentication of %q on database %q failed", c.login, c.db)}
	}
	c.mu.Lock()
	c.uid = uid
	c.mu.Unlock()
	return uid, nil
}

func (c *client) currentUID(ctx context.Context) (int, error) {
	c.mu.Lock()
	uid := c.uid
	c.mu.Unlock()
	if uid != 0 {
		return uid, nil
	}
	return c.authenticate(ctx)
}

// execute runs model.method through object.execute_kw, logging in first
// if needed and once more after a session expiry (code 100).
func (c *client) execute(ctx context.Context, model, method string, args []any, kwargs map[string]any) (any, error) {
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	for attempt := 0; ; attempt++ {
		uid, err := c.currentUID(ctx)
		if err != nil {
			return nil, err
		}
		res, rerr, err := c.call(ctx, "object", "execute_kw", []any{c.db, uid, c.secret, model, method, args, kwargs})
		if err != nil {
			return nil, err
		}
		if rerr == nil {
			return res, nil
		}
		if rerr.Code == 100 && attempt == 0 {
			c.mu.Lock()
			c.uid = 0
			c.mu.Unlock()
			continue
		}
		return nil, mapRPCError(rerr)
	}
}

// searchRead runs search_read and returns the rows.
func (c *client) searchRead(ctx context.Context, model string, domain []any, fields []string, order string, limit int) ([]map[string]any, error) {
	kw := map[string]any{"fields": fields}
	if order != "" {
		kw["order"] = order
	}
	if limit > 0 {
		kw["limit"] = limit
	}
	if domain == nil {
		domain = []any{}
	}
	res, err := c.execute(ctx, model, "search_read", []any{domain}, kw)
	if err != nil {
		return nil, err
	}
	return rows(res)
}

// read runs read on ids and returns the rows.
func (c *client) read(ctx context.Context, model string, ids []int, fields []string) ([]map[string]any, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	res, err := c.execute(ctx, model, "read", []any{ids}, map[string]any{"fields": fields})
	if err != nil {
		return nil, err
	}
	return rows(res)
}

func rows(res any) ([]map[string]any, error) {
	list, ok := res.([]any)
	if !ok {
		return nil, external.Errorf(external.EREMOTE, "expected a list of records, got %T", res)
	}
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, external.Errorf(external.EREMOTE, "expected a record, got %T", x)
		}
		out = append(out, m)
	}
	return out, nil
}

// redact removes secret from s (transport errors quote URLs, never bodies,
// but be safe).
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[REDACTED]")
}
