// Package external is the framework for forwarding DataCollect entities to
// external registries (OpenSPP and others) and pulling their changes back.
//
// An Adapter speaks one registry's protocol. It is a pure library: it holds
// no queue and does not retry (except where a protocol needs it, such as
// re-authenticating after a session expiry); the server's outbox/manager
// decides what to push, stores the external ids and pull cursors it gets
// back, and retries the results whose Error is Retryable.
//
// Adapters register a factory under their name (see Register) from an init
// function, so the manager builds them from a Config alone:
//
//	a, err := external.New(cfg.Adapter)
//	err = a.Initialize(ctx, cfg)
//	results := a.Push(ctx, batch, lookup)
package external

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	dc "github.com/datacollect/datacollect"
)

// Config configures one adapter instance. Secret (a password or an API key)
// is never printed: String, GoString and LogValue redact it.
type Config struct {
	// Adapter is the registered adapter name, e.g. "openspp".
	Adapter string `json:"adapter"`
	// URL is the external system's base URL, without a trailing path such
	// as /jsonrpc.
	URL string `json:"url"`
	// Database is the database name, for systems that have one (Odoo).
	Database string `json:"database,omitempty"`
	// Login and Secret are the credentials.
	Login  string `json:"login,omitempty"`
	Secret string `json:"secret,omitempty"`
	// FieldMap maps DataCollect data keys to external field names; it is
	// merged over the adapter's default mapping, and an empty value removes
	// a default entry.
	FieldMap map[string]string `json:"fieldMap,omitempty"`
	// Options are adapter-specific settings, documented by each adapter.
	Options map[string]string `json:"options,omitempty"`
	// PageSize is the default number of records per Pull (adapter default
	// when <= 0).
	PageSize int `json:"pageSize,omitempty"`
}

// Option returns Options[key], or def when it is unset or empty.
func (c Config) Option(key, def string) string {
	if v := c.Options[key]; v != "" {
		return v
	}
	return def
}

func (c Config) redacted() string {
	secret := ""
	if c.Secret != "" {
		secret = "[REDACTED]"
	}
	keys := make([]string, 0, len(c.Options))
	for k := range c.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	opts := make([]string, len(keys))
	for i, k := range keys {
		opts[i] = k + "=" + c.Options[k]
	}
	return fmt.Sprintf("{Adapter:%s URL:%s Database:%s Login:%s Secret:%s FieldMap:%v Options:[%s] PageSize:%d}",
		c.Adapter, c.URL, c.Database, c.Login, secret, c.FieldMap, strings.Join(opts, " "), c.PageSize)
}

// String describes c with Secret redacted (it also serves %v and %+v).
func (c Config) String() string { return c.redacted() }

// GoString describes c with Secret redacted (it serves %#v).
func (c Config) GoString() string { return "external.Config" + c.redacted() }

// LogValue implements slog.LogValuer with Secret redacted.
func (c Config) LogValue() slog.Value {
	secret := ""
	if c.Secret != "" {
		secret = "[REDACTED]"
	}
	return slog.GroupValue(
		slog.String("adapter", c.Adapter), slog.String("url", c.URL), slog.String("database", c.Database),
		slog.String("login", c.Login), slog.String("secret", secret), slog.Any("fieldMap", c.FieldMap),
		slog.Any("options", c.Options), slog.Int("pageSize", c.PageSize))
}

// Lookup returns the entity with the given guid as the caller knows it
// (with its ExternalID if it has already been pushed), or false. Push uses
// it for entities a batch refers to but does not contain (group members).
type Lookup func(guid string) (*dc.Entity, bool)

// PushResult is the outcome of pushing one entity.
type PushResult struct {
	// GUID is the entity's guid.
	GUID string `json:"guid"`
	// ExternalID is the entity's id in the external system ("" on failure,
	// or for a deleted entity the external system never held).
	ExternalID string `json:"externalId,omitempty"`
	// Created is true when this push created the external record (false
	// when it updated an existing one).
	Created bool `json:"created,omitempty"`
	// Err is nil on success.
	Err *Error `json:"error,omitempty"`
}

// Record is one record pulled from an external system, mapped to
// DataCollect's vocabulary.
type Record struct {
	// ExternalID is the record's id in the external system.
	ExternalID string `json:"externalId"`
	// GUID is the DataCollect guid the external system holds for the
	// record ("" when it was created there).
	GUID string        `json:"guid,omitempty"`
	Type dc.EntityType `json:"type"`
	// Data holds the mapped fields, keyed by DataCollect data keys.
	Data map[string]any `json:"data"`
	// MemberExternalIDs lists a group's current members by external id.
	MemberExternalIDs []string `json:"memberExternalIds,omitempty"`
	// UpdatedAt is when the external system last changed the record, RFC
	// 3339 UTC (dc.TimeLayout) when the adapter can convert it.
	UpdatedAt string `json:"updatedAt,omitempty"`
}

// PullPage is one page of changes.
type PullPage struct {
	Records []*Record `json:"records"`
	// Next is the cursor to pass to the next Pull; it is opaque and must be
	// stored only after the page's records have been applied. It equals
	// the cursor passed in when the page is empty.
	Next string `json:"next"`
	// More is true when another page may follow right away.
	More bool `json:"more"`
}

// Adapter connects DataCollect to one external system. Implementations
// must be safe for concurrent use after Initialize.
type Adapter interface {
	// Name returns the adapter's registered name.
	Name() string
	// Initialize validates cfg and prepares the adapter; it does no I/O
	// beyond what validation needs and fails with ECONFIG.
	Initialize(ctx context.Context, cfg Config) error
	// Authenticate checks the credentials (and loads what the adapter
	// caches); it returns an *Error (EAUTH, ENETWORK, ...). Push and Pull
	// authenticate on their own when needed.
	Authenticate(ctx context.Context) error
	// Push creates or updates the entities in the external system and
	// returns one result per entity, in the order given. The failure of one
	// entity never prevents the others; push is idempotent, so a batch may
	// be retried as a whole or in part.
	Push(ctx context.Context, entities []*dc.Entity, lookup Lookup) []PushResult
	// Pull returns the records changed after cursor ("" for the start),
	// at most limit of them (Config.PageSize or the adapter default when
	// limit <= 0), oldest change first.
	Pull(ctx context.Context, cursor string, limit int) (*PullPage, error)
	// MapToExternal returns the external field values for e, without the
	// relations that need remote state (e.g. memberships).
	MapToExternal(e *dc.Entity) (map[string]any, error)
	// MapFromExternal maps one external record, as Pull reads it, to a
	// Record.
	MapFromExternal(rec map[string]any) (*Record, error)
}
