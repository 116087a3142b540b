// Package webhook is a minimal external adapter: it pushes entities as JSON
// to an HTTP endpoint and pulls records from it. It registers itself as
// "webhook" in package external, and shows what another adapter needs.
//
// Protocol, relative to Config.URL:
//
//	POST /records   body {"records":[Outgoing...]}
//	                → 200 {"results":[{"guid","externalId","created","error":{"code","message","retryable"}}]}
//	GET  /records?since=CURSOR&limit=N
//	                → 200 {"records":[external.Record...],"next":"CURSOR","more":bool}
//
// Every request carries the header X-DataCollect-Signature:
// "sha256=" + hex(HMAC-SHA256(Config.Secret, payload)), where the payload
// is the request body for POST and the raw query string for GET (see Sign
// and Verify). HTTP 401 maps to EAUTH, 403 to EACCESS, 400 and 422 to
// EVALIDATION, 429, 5xx and transport failures to ENETWORK (retryable).
//
// Options: timeout (a Go duration, default 30s). Config.FieldMap renames
// data keys (DataCollect key → remote key) both ways.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/external"
)

// Name is the adapter's registered name.
const Name = "webhook"

// SignatureHeader is the header carrying the request's signature.
const SignatureHeader = "X-DataCollect-Signature"

// DefaultPageSize is the Pull limit when neither the call nor
// Config.PageSize gives one.
const DefaultPageSize = 100

func init() {
	external.Register(Name, func() external.Adapter { return New() })
}

var _ external.Adapter = (*Adapter)(nil)

// Sign returns the signature header value of payload under secret.
func Sign(secret string, payload []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(payload)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is payload's signature under secret
// (comparing in constant time).
func Verify(secret string, payload []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, payload)), []byte(sig))
}

// Outgoing is one pushed record.
type Outgoing struct {
	GUID       string         `json:"guid"`
	Type       dc.EntityType  `json:"type"`
	ExternalID string         `json:"externalId,omitempty"`
	Data       map[string]any `json:"data"`
	// MemberIDs are a group's members' guids; MemberExternalIDs their
	// external ids where known ("" otherwise), index for index.
	MemberIDs         []string `json:"memberIds,omitempty"`
	MemberExternalIDs []string `json:"memberExternalIds,omitempty"`
	Deleted           bool     `json:"deleted,omitempty"`
}

// Adapter is the webhook adapter; safe for concurrent use after Initialize.
type Adapter struct {
	// HTTPClient, if set before Initialize, replaces the default client.
	HTTPClient *http.Client

	base     string
	secret   string
	fields   map[string]string // DataCollect key → remote key
	reverse  map[string]string
	pageSize int
	http     *http.Client
}

// New returns an uninitialized adapter.
func New() *Adapter { return &Adapter{} }

// Name returns "webhook".
func (a *Adapter) Name() string { return Name }

// Initialize validates cfg: URL (http or https) and Secret are required.
func (a *Adapter) Initialize(_ context.Context, cfg external.Config) error {
	u, err := url.Parse(cfg.URL)
	if cfg.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return external.Errorf(external.ECONFIG, "webhook: URL %q is not an http(s) URL", cfg.URL)
	}
	if cfg.Secret == "" {
		return external.Errorf(external.ECONFIG, "webhook: a secret (the HMAC key) is required")
	}
	timeout := 30 * time.Second
	if s := cfg.Option("timeout", ""); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return external.Errorf(external.ECONFIG, "webhook: option timeout %q is not a positive duration", s)
		}
		timeout = d
	}
	a.base = strings.TrimRight(cfg.URL, "/")
	a.secret = cfg.Secret
	a.fields, a.reverse = map[string]string{}, map[string]string{}
	for k, v := range cfg.FieldMap {
		if v != "" {
			a.fields[k], a.reverse[v] = v, k
		}
	}
	a.pageSize = cfg.PageSize
	if a.pageSize <= 0 {
		a.pageSize = DefaultPageSize
	}
	a.http = a.HTTPClient
	if a.http == nil {
		a.http = &http.Client{Timeout: timeout}
	}
	return nil
}

// Authenticate does nothing: every request is signed, so credentials are
// checked by the first Push or Pull.
func (a *Adapter) Authenticate(context.Context) error {
	if a.http == nil {
		return external.Errorf(external.ECONFIG, "webhook: not initialized")
	}
	return nil
}

// MapToExternal returns the Outgoing form of e as a map (data keys renamed
// by Config.FieldMap), without member external ids.
func (a *Adapter) MapToExternal(e *dc.Entity) (map[string]any, error) {
	out, err := a.outgoing(e, nil)
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(out)
	var m map[string]any
	err = json.Unmarshal(b, &m)
	return m, err
}

func (a *Adapter) outgoing(e *dc.Entity, lookup external.Lookup) (*Outgoing, error) {
	if e == nil {
		return nil, external.Errorf(external.EVALIDATION, "nil entity")
	}
	o := &Outgoing{GUID: e.GUID, Type: e.Type, ExternalID: e.ExternalID, Data: map[string]any{}, Deleted: e.Deleted}
	for k, v := range e.Data {
		if r, ok := a.fields[k]; ok {
			k = r
		}
		o.Data[k] = v
	}
	if len(e.MemberIDs) > 0 {
		o.MemberIDs = append([]string(nil), e.MemberIDs...)
		o.MemberExternalIDs = make([]string, len(e.MemberIDs))
		for i, m := range e.MemberIDs {
			if lookup != nil {
				if me, ok := lookup(m); ok && me != nil {
					o.MemberExternalIDs[i] = me.ExternalID
				}
			}
		}
	}
	return o, nil
}

// MapFromExternal maps a record as GET /records returns it (data keys
// renamed back by Config.FieldMap).
func (a *Adapter) MapFromExternal(m map[string]any) (*external.Record, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, external.Errorf(external.EREMOTE, "webhook: record: %v", err)
	}
	var r external.Record
	if err := json.Unmarshal(b, &r); err != nil || r.ExternalID == "" {
		return nil, external.Errorf(external.EREMOTE, "webhook: record without an externalId or malformed: %s", b)
	}
	return a.fromRemote(&r), nil
}

func (a *Adapter) fromRemote(r *external.Record) *external.Record {
	if r.Type == "" {
		r.Type = dc.Individual
	}
	data := make(map[string]any, len(r.Data))
	for k, v := range r.Data {
		if l, ok := a.reverse[k]; ok {
			k = l
		}
		data[k] = v
	}
	r.Data = data
	return r
}

type pushAnswer struct {
	Results []struct {
		GUID       string          `json:"guid"`
		ExternalID string          `json:"externalId"`
		Created    bool            `json:"created"`
		Error      *external.Error `json:"error"`
	} `json:"results"`
}

// Push posts the whole batch in one request and returns the results the
// endpoint gave per guid, in input order. A request-wide failure (HTTP
// status, transport) is every record's error; a guid the answer leaves out
// gets a retryable EREMOTE.
func (a *Adapter) Push(ctx context.Context, entities []*dc.Entity, lookup external.Lookup) []external.PushResult {
	results := make([]external.PushResult, len(entities))
	body := struct {
		Records []*Outgoing `json:"records"`
	}{Records: []*Outgoing{}}
	var sent []int
	for i, e := range entities {
		o, err := a.outgoing(e, lookup)
		if err != nil {
			results[i].Err = external.AsError(err)
			continue
		}
		results[i].GUID = e.GUID
		body.Records = append(body.Records, o)
		sent = append(sent, i)
	}
	if len(sent) == 0 {
		return results
	}
	payload, err := json.Marshal(body)
	if err != nil {
		for _, i := range sent {
			results[i].Err = external.Errorf(external.EVALIDATION, "webhook: encode: %v", err)
		}
		return results
	}
	var ans pushAnswer
	if err := a.do(ctx, http.MethodPost, a.base+"/records", payload, payload, &ans); err != nil {
		e := external.AsError(err)
		for _, i := range sent {
			results[i].Err = e
		}
		return results
	}
	byGUID := map[string]int{}
	for j, r := range ans.Results {
		byGUID[r.GUID] = j
	}
	for _, i := range sent {
		j, ok := byGUID[results[i].GUID]
		if !ok {
			results[i].Err = &external.Error{Code: external.EREMOTE, Retryable: true, Message: "webhook: no result for this record"}
			continue
		}
		r := ans.Results[j]
		if r.Error != nil {
			if r.Error.Code == "" {
				r.Error.Code = external.EREMOTE
			}
			results[i].Err = r.Error
			continue
		}
		results[i].ExternalID, results[i].Created = r.ExternalID, r.Created
	}
	return results
}

// Pull gets the records changed after cursor.
func (a *Adapter) Pull(ctx context.Context, cursor string, limit int) (*external.PullPage, error) {
	if limit <= 0 {
		limit = a.pageSize
	}
	q := url.Values{"since": {cursor}, "limit": {strconv.Itoa(limit)}}.Encode()
	var page external.PullPage
	if err := a.do(ctx, http.MethodGet, a.base+"/records?"+q, nil, []byte(q), &page); err != nil {
		return nil, err
	}
	for i, r := range page.Records {
		if r == nil || r.ExternalID == "" {
			return nil, external.Errorf(external.EREMOTE, "webhook: record %d has no externalId", i)
		}
		a.fromRemote(r)
	}
	if page.Records == nil {
		page.Records = []*external.Record{}
	}
	if page.Next == "" {
		page.Next = cursor
	}
	return &page, nil
}

// do sends one signed request and decodes a 200 answer into out.
func (a *Adapter) do(ctx context.Context, method, u string, body, signed []byte, out any) error {
	if a.http == nil {
		return external.Errorf(external.ECONFIG, "webhook: not initialized")
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return external.Errorf(external.ECONFIG, "webhook: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set(SignatureHeader, Sign(a.secret, signed))
	resp, err := a.http.Do(req)
	if err != nil {
		return external.Errorf(external.ENETWORK, "webhook: %s: %v", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return external.Errorf(external.ENETWORK, "webhook: read answer: %v", err)
	}
	msg := fmt.Sprintf("webhook: %s /records: HTTP %d: %s", method, resp.StatusCode, snippet(raw))
	switch s := resp.StatusCode; {
	case s == http.StatusOK:
	case s == http.StatusUnauthorized:
		return &external.Error{Code: external.EAUTH, Message: msg}
	case s == http.StatusForbidden:
		return &external.Error{Code: external.EACCESS, Message: msg}
	case s == http.StatusBadRequest || s == http.StatusUnprocessableEntity:
		return &external.Error{Code: external.EVALIDATION, Message: msg}
	case s == http.StatusTooManyRequests || s >= 500:
		return &external.Error{Code: external.ENETWORK, Retryable: true, Message: msg}
	default:
		return &external.Error{Code: external.EREMOTE, Message: msg}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return external.Errorf(external.EREMOTE, "webhook: answer is not JSON: %v", err)
	}
	return nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
