// Package openspp is the DataCollect adapter for OpenSPP 17 (Odoo 17 with
// the OpenSPP and OpenG2P modules), over Odoo's JSON-RPC API
// (POST {URL}/jsonrpc). It registers itself as "openspp" in package
// external.
//
// Registrants are res.partner records (is_registrant); groups carry a kind
// (g2p.group.kind) and memberships (g2p.group.membership); identity
// documents are g2p.reg.id records. Push is an idempotent upsert: the
// DataCollect guid is kept in a custom char field of res.partner (option
// guid_field), searched before every create.
//
// Options (Config.Options):
//   - guid_field: the res.partner field holding the DataCollect guid
//     (default x_datacollect_guid); it must exist on the server.
//   - group_kind: the g2p.group.kind name of pushed groups (default Household).
//   - id_type: the g2p.id.type name of the national ID (default "National ID").
//   - id_key: the DataCollect data key of the national ID (default nationalId).
//   - timeout: the HTTP timeout per call, a Go duration (default 60s).
package openspp

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/datacollect/datacollect/external"
)

// Name is the adapter's registered name.
const Name = "openspp"

// Defaults of the options.
const (
	DefaultGUIDField = "x_datacollect_guid"
	DefaultGroupKind = "Household"
	DefaultIDType    = "National ID"
	DefaultIDKey     = "nationalId"
	DefaultPageSize  = 200
	DefaultTimeout   = 60 * time.Second
)

// Partner is the Odoo model of registrants.
const (
	partnerModel    = "res.partner"
	membershipModel = "g2p.group.membership"
	regIDModel      = "g2p.reg.id"
	groupKindModel  = "g2p.group.kind"
	idTypeModel     = "g2p.id.type"
	genderModel     = "gender.type"
)

func init() {
	external.Register(Name, func() external.Adapter { return New() })
}

var _ external.Adapter = (*Adapter)(nil)

// Adapter is the OpenSPP 17 adapter. Create it with New (or
// external.New("openspp")) and Initialize it before use; it is then safe
// for concurrent use.
type Adapter struct {
	// HTTPClient, if set before Initialize, replaces the default client
	// (whose timeout is the timeout option).
	HTTPClient *http.Client

	cfg       external.Config
	c         *client
	fields    map[string]string // DataCollect key → Odoo field
	guidField string
	groupKind string
	idType    string
	idKey     string
	pageSize  int

	rmu  sync.Mutex // guards refs
	refs *refs
}

// refs caches reference data looked up by name; ids differ per database.
type refs struct {
	genders   map[string]string // lower-cased value or code → value
	kindID    int               // the group_kind id
	idTypeID  int               // the id_type id (0: not found, IDs are not pushed)
	idTypes   map[int]string    // id type id → name, for pulls
	refreshed time.Time
}

// New returns an uninitialized adapter.
func New() *Adapter { return &Adapter{} }

// Name returns "openspp".
func (a *Adapter) Name() string { return Name }

// defaultFieldMap maps DataCollect data keys to res.partner fields.
var defaultFieldMap = map[string]string{
	"name":       "name",
	"givenName":  "given_name",
	"familyName": "family_name",
	"addlName":   "addl_name",
	"birthdate":  "birthdate",
	"gender":     "gender",
	"phone":      "phone",
	"email":      "email",
}

// Initialize validates cfg (URL, Database, Login, Secret are required)
// and prepares the HTTP client. It does no I/O.
func (a *Adapter) Initialize(ctx context.Context, cfg external.Config) error {
	u, err := url.Parse(cfg.URL)
	if cfg.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return external.Errorf(external.ECONFIG, "openspp: URL %q is not an http(s) URL", cfg.URL)
	}
	if cfg.Database == "" || cfg.Login == "" || cfg.Secret == "" {
		return external.Errorf(external.ECONFIG, "openspp: database, login and secret are required")
	}
	timeout := DefaultTimeout
	if s := cfg.Option("timeout", ""); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return external.Errorf(external.ECONFIG, "openspp: option timeout %q is not a positive duration", s)
		}
		timeout = d
	}
	a.cfg = cfg
	a.fields = map[string]string{}
	for k, v := range defaultFieldMap {
		a.fields[k] = v
	}
	for k, v := range cfg.FieldMap {
		if v == "" {
			delete(a.fields, k)
		} else {
			a.fields[k] = v
		}
	}
	a.guidField = cfg.Option("guid_field", DefaultGUIDField)
	a.groupKind = cfg.Option("group_kind", DefaultGroupKind)
	a.idType = cfg.Option("id_type", DefaultIDType)
	a.idKey = cfg.Option("id_key", DefaultIDKey)
	a.pageSize = cfg.PageSize
	if a.pageSize <= 0 {
		a.pageSize = DefaultPageSize
	}
	hc := a.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		tr.TLSHandshakeTimeout = 10 * time.Second
		tr.ResponseHeaderTimeout = timeout
		hc = &http.Client{Timeout: timeout, Transport: tr}
	}
	a.c = &client{endpoint: strings.TrimRight(cfg.URL, "/") + "/jsonrpc", db: cfg.Database, login: cfg.Login,
		secret: cfg.Secret, http: hc}
	a.rmu.Lock()
	a.refs = nil
	a.rmu.Unlock()
	return nil
}

// Authenticate logs in (common.authenticate) and loads the reference data
// (genders, the group kind, the ID type) and checks that the guid field
// exists. Bad credentials fail with EAUTH, a missing guid field or group
// kind with ECONFIG.
func (a *Adapter) Authenticate(ctx context.Context) error {
	if a.c == nil {
		return external.Errorf(external.ECONFIG, "openspp: not initialized")
	}
	if _, err := a.c.authenticate(ctx); err != nil {
		return err
	}
	_, err := a.loadRefs(ctx)
	return err
}

// ready authenticates if needed and returns the reference data.
func (a *Adapter) ready(ctx context.Context) (*refs, error) {
	if a.c == nil {
		return nil, external.Errorf(external.ECONFIG, "openspp: not initialized")
	}
	a.rmu.Lock()
	r := a.refs
	a.rmu.Unlock()
	if r != nil {
		return r, nil
	}
	return a.loadRefs(ctx)
}

// loadRefs (re)loads the reference data and caches it.
func (a *Adapter) loadRefs(ctx context.Context) (*refs, error) {
	fields, err := a.c.execute(ctx, partnerModel, "fields_get", []any{[]string{a.guidField}}, map[string]any{"attributes": []string{"type"}})
	if err != nil {
		return nil, err
	}
	if fm, _ := fields.(map[string]any); fm[a.guidField] == nil {
		return nil, external.Errorf(external.ECONFIG, "openspp: res.partner has no field %q (option guid_field): add it to OpenSPP", a.guidField)
	}
	r := &refs{genders: map[string]string{}, idTypes: map[int]string{}, refreshed: time.Now()}
	genders, err := a.c.searchRead(ctx, genderModel, nil, []string{"code", "value"}, "id asc", 0)
	if err != nil {
		return nil, err
	}
	for _, g := range genders {
		v := str(g["value"])
		if v == "" {
			continue
		}
		r.genders[strings.ToLower(v)] = v
		if code := str(g["code"]); code != "" {
			if _, taken := r.genders[strings.ToLower(code)]; !taken {
				r.genders[strings.ToLower(code)] = v
			}
		}
	}
	kinds, err := a.c.searchRead(ctx, groupKindModel, []any{[]any{"name", "=ilike", a.groupKind}}, []string{"name"}, "id asc", 1)
	if err != nil {
		return nil, err
	}
	if len(kinds) == 0 {
		return nil, external.Errorf(external.ECONFIG, "openspp: no g2p.group.kind named %q (option group_kind)", a.groupKind)
	}
	r.kindID, _ = kinds[0]["id"].(int)
	types, err := a.c.searchRead(ctx, idTypeModel, nil, []string{"name"}, "id asc", 0)
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		id, _ := t["id"].(int)
		r.idTypes[id] = str(t["name"])
		if r.idTypeID == 0 && strings.EqualFold(str(t["name"]), a.idType) {
			r.idTypeID = id
		}
	}
	a.rmu.Lock()
	a.refs = r
	a.rmu.Unlock()
	return r, nil
}

// refreshGenders reloads the references when a gender value is unknown,
// at most once a minute; it returns the (possibly new) references.
func (a *Adapter) refreshGenders(ctx context.Context, r *refs) *refs {
	if time.Since(r.refreshed) < time.Minute {
		return r
	}
	if nr, err := a.loadRefs(ctx); err == nil {
		return nr
	}
	return r
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
