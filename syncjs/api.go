//go:build js && wasm

package syncjs

import (
	"context"
	"strings"
	"sync"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/core"
	idbstore "github.com/datacollect/datacollect/store/idb"
)

// Version is the version of the JS API.
const Version = "0.1.0"

// API is the window.datacollect object: the Go client exposed to JS.
type API struct {
	obj     js.Value
	events  *emitter
	applier *core.Applier

	mu        sync.Mutex
	client    *client.Client
	transport *FetchTransport
	life      *lifecycle
	hooks     conflictHooks
	appID     string
	dbName    string
	unsub     func()
	funcs     []js.Func
	// lastInit are the options of the last successful init, without the
	// passphrase, for unlock; locked is set by lock().
	lastInit *InitOptions
	locked   bool
}

// InitOptions are init()'s options.
type InitOptions struct {
	AppID       string `json:"appId"`
	DBName      string `json:"dbName"`
	UserID      string `json:"userId"`
	ServerURL   string `json:"serverUrl"`
	BatchSize   int    `json:"batchSize"`
	PageSize    int    `json:"pageSize"`
	Concurrency int    `json:"concurrency"`
	// AutoSync (default true) syncs after changes, when the network
	// returns, on a backing-off poll and on retries.
	AutoSync *bool `json:"autoSync"`
	// Scheduling, in milliseconds (0: the defaults of core.SchedulePolicy).
	DebounceMs  int `json:"debounceMs"`
	PollMinMs   int `json:"pollMinMs"`
	PollMaxMs   int `json:"pollMaxMs"`
	RetryBaseMs int `json:"retryBaseMs"`
	RetryMaxMs  int `json:"retryMaxMs"`
	MaxRetries  int `json:"maxRetries"`
	// ConflictStrategy is "merge" (the default), "lww" or "manual";
	// FieldResolvers names per-field resolvers of merge ("lww", "max",
	// "min", "union").
	ConflictStrategy string            `json:"conflictStrategy"`
	FieldResolvers   map[string]string `json:"fieldResolvers"`
	// DuplicateKeys are the compound keys that flag potential duplicates,
	// per entity type (absent: {individual: ['nationalId'], group:
	// ['nationalId']}).
	DuplicateKeys map[string][]string `json:"duplicateKeys"`
	// Passphrase, when set, encrypts the database at rest (AES-256-GCM
	// under a key derived from it; see atrest.go): a new or clear database
	// is encrypted, an encrypted one needs the same passphrase. It is never
	// stored.
	Passphrase string `json:"passphrase"`
}

// Install defines the API's methods on obj (normally window.datacollect,
// created by the loader) and returns it. applier may carry custom event
// types registered from Go; nil means the built-in types only.
func Install(obj js.Value, applier *core.Applier) *API {
	if applier == nil {
		applier = core.NewApplier()
	}
	a := &API{obj: obj, events: newEmitter(), applier: applier}
	a.events.install(obj)
	obj.Set("version", Version)
	a.method("init", a.init)
	a.method("close", a.close)
	a.method("lock", a.lock)
	a.method("unlock", a.unlock)
	a.method("submitForm", a.submitForm)
	a.method("submitForms", a.submitForms)
	a.method("getEntity", a.getEntity)
	a.method("listEntities", a.listEntities)
	a.method("listEvents", a.listEvents)
	a.method("auditLog", a.auditLog)
	a.method("login", a.login)
	a.method("logout", a.logout)
	a.method("session", a.session)
	a.method("sync", a.syncMethod(client.SyncBoth))
	a.method("push", a.syncMethod(client.SyncPush))
	a.method("pull", a.syncMethod(client.SyncPull))
	a.method("status", a.status)
	a.method("metrics", a.metrics)
	a.method("retryFailed", a.retryFailed)
	a.method("inspect", a.inspect)
	a.method("plan", a.plan)
	a.method("setAutoSync", a.setAutoSync)
	a.method("verify", a.verify)
	a.method("duplicates", a.duplicates)
	a.method("conflicts", a.conflicts)
	a.method("resolveConflict", a.resolveConflict)
	a.method("setConflictResolver", a.setConflictResolver)
	return a
}

func (a *API) method(name string, prepare func(args []js.Value) func() (any, error)) {
	f := asyncFunc(prepare)
	a.funcs = append(a.funcs, f)
	a.obj.Set(name, f)
}

// current returns the initialised client or ECLOSED.
func (a *API) current() (*client.Client, error) {
	p, err := a.parts()
	return p.c, err
}

func (a *API) init(args []js.Value) func() (any, error) {
	var o InitOptions
	if err := fromJS(arg(args, 0), &o, "init options"); err != nil {
		return failed(err)
	}
	o.AppID = strings.TrimSpace(o.AppID)
	if o.AppID == "" {
		return failed(dc.Errorf(dc.EINVALID, "init options need an appId"))
	}
	if o.DBName == "" {
		o.DBName = "datacollect-" + o.AppID
	}
	return func() (any, error) { return a.open(o) }
}

// open opens the client of o (init and unlock).
func (a *API) open(o InitOptions) (any, error) {
	{
		a.closeClient()
		s, err := idbstore.Open(context.Background(), o.DBName)
		if err != nil {
			return nil, err
		}
		ctx := context.Background()
		encrypted, err := unlockStore(ctx, s, o.Passphrase, func(done, total int) {
			a.events.emit("progress", func() js.Value {
				v, _ := toJS(client.Progress{Phase: "encrypt", Done: done, Total: total})
				return v
			})
		})
		o.Passphrase = ""
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		c := client.New(s, client.Options{UserID: o.UserID, Applier: a.applier})
		if err := setDupKeys(c, o.DuplicateKeys); err != nil {
			_ = s.Close()
			return nil, err
		}
		if err := c.SetConflictStrategy(o.ConflictStrategy, o.FieldResolvers); err != nil {
			_ = s.Close()
			return nil, err
		}
		device, err := c.DeviceID(ctx)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		t := &FetchTransport{BaseURL: o.ServerURL, ClientID: device}
		t.Refresh = refresher(c, t, o.AppID, "datacollect-refresh-"+o.DBName)
		sess, err := c.Session(ctx)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		if sess != nil {
			t.SetToken(sess.Token)
			if err := t.SetAppKey(o.AppID, sess.AppKey, sess.AppKeyID); err != nil {
				_ = s.Close()
				return nil, err
			}
			c.SetUser(sess.UserID)
		}
		unsub := c.Subscribe(func(ch client.Change) { a.emitChange(ch.Entities) })
		life := newLifecycle(a, c, t, o.AppID, device, lifecycleOptions{
			autoSync: o.AutoSync == nil || *o.AutoSync,
			policy:   policyOf(o),
			sync: client.SyncOptions{BatchSize: o.BatchSize, PageSize: o.PageSize, Concurrency: o.Concurrency,
				Progress: func(p client.Progress) {
					a.events.emit("progress", func() js.Value { v, _ := toJS(p); return v })
				}},
		})
		if sess == nil {
			life.syncer.WaitForLogin()
		}
		a.mu.Lock()
		a.client, a.transport, a.life, a.appID, a.dbName, a.unsub = c, t, life, o.AppID, o.DBName, unsub
		a.hooks.seen = nil
		a.lastInit, a.locked = &o, false
		a.mu.Unlock()
		return toJS(map[string]any{"appId": o.AppID, "dbName": o.DBName, "encrypted": encrypted})
	}
}

// lock closes the client and forgets the keys: calls then fail with
// ECRYPTO until unlock(passphrase).
func (a *API) lock([]js.Value) func() (any, error) {
	return func() (any, error) {
		a.closeClient()
		a.mu.Lock()
		a.locked = a.lastInit != nil
		a.mu.Unlock()
		return js.Undefined(), nil
	}
}

// unlock re-opens the client of the last init() with a passphrase.
func (a *API) unlock(args []js.Value) func() (any, error) {
	p := arg(args, 0)
	if p.Type() != js.TypeString || p.String() == "" {
		return failed(dc.Errorf(dc.EINVALID, "unlock needs the passphrase"))
	}
	pass := p.String()
	return func() (any, error) {
		a.mu.Lock()
		last := a.lastInit
		a.mu.Unlock()
		if last == nil {
			return nil, dc.Errorf(dc.ECLOSED, "datacollect is not initialised: call init({appId, passphrase}) first")
		}
		o := *last
		o.Passphrase = pass
		res, err := a.open(o)
		if err != nil && dc.ErrorCode(err) == dc.ECRYPTO {
			a.mu.Lock()
			a.locked = true
			a.mu.Unlock()
		}
		return res, err
	}
}

// emitChange emits a change event with the entities' new state.
func (a *API) emitChange(ents []*dc.Entity) {
	a.events.emit("change", func() js.Value {
		b := appendEntitiesJSON([]byte(`{"entities":`), ents)
		return rawJSON(append(b, '}'))
	})
}

func (a *API) closeClient() {
	a.mu.Lock()
	c, unsub, life := a.client, a.unsub, a.life
	a.client, a.unsub, a.life = nil, nil, nil
	a.mu.Unlock()
	if life != nil {
		life.close()
	}
	if unsub != nil {
		unsub()
	}
	if c != nil {
		_ = c.Close()
	}
}

func (a *API) close([]js.Value) func() (any, error) {
	return func() (any, error) {
		a.closeClient()
		return js.Undefined(), nil
	}
}

func (a *API) submitForm(args []js.Value) func() (any, error) {
	fs, err := formsFromJS(arg(args, 0), true)
	if err != nil {
		return failed(err)
	}
	f := fs[0]
	return func() (any, error) {
		c, err := a.current()
		if err != nil {
			return nil, err
		}
		ev, err := c.SubmitForm(context.Background(), f)
		if err != nil {
			return nil, err
		}
		return rawJSON(appendEventJSON(nil, ev)), nil
	}
}

func (a *API) submitForms(args []js.Value) func() (any, error) {
	fs, err := formsFromJS(arg(args, 0), false)
	if err != nil {
		return failed(err)
	}
	return func() (any, error) {
		c, err := a.current()
		if err != nil {
			return nil, err
		}
		evs, err := c.SubmitForms(context.Background(), fs)
		if err != nil {
			return nil, err
		}
		return rawJSON(appendEventsJSON(nil, evs)), nil
	}
}

func (a *API) getEntity(args []js.Value) func() (any, error) {
	g := arg(args, 0)
	if g.Type() != js.TypeString || g.String() == "" {
		return failed(dc.Errorf(dc.EINVALID, "getEntity needs a guid string"))
	}
	guid := g.String()
	return func() (any, error) {
		c, err := a.current()
		if err != nil {
			return nil, err
		}
		e, err := c.Entity(context.Background(), guid)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return js.Null(), nil
		}
		return rawJSON(appendEntityJSON(nil, e)), nil
	}
}

// ListEntitiesOptions are listEntities()'s options.
type ListEntitiesOptions struct {
	Type           string `json:"type"`
	ExternalID     string `json:"externalId"`
	IncludeDeleted bool   `json:"includeDeleted"`
	Limit          int    `json:"limit"`
}

func (a *API) listEntities(args []js.Value) func() (any, error) {
	var o ListEntitiesOptions
	if err := optionalFromJS(arg(args, 0), &o, "listEntities options"); err != nil {
		return failed(err)
	}
	return func() (any, error) {
		c, err := a.current()
		if err != nil {
			return nil, err
		}
		es, err := c.ListEntities(context.Background(), client.EntityFilter{
			Type: dc.EntityType(o.Type), ExternalID: o.ExternalID, IncludeDeleted: o.IncludeDeleted, Limit: o.Limit})
		if err != nil {
			return nil, err
		}
		return rawJSON(appendEntitiesJSON(nil, es)), nil
	}
}

// ListEventsOptions are listEvents()'s options.
type ListEventsOptions struct {
	EntityGUID string `json:"entityGuid"`
	SyncLevel  string `json:"syncLevel"`
	Limit      int    `json:"limit"`
}

func (a *API) listEvents(args []js.Value) func() (any, error) {
	var o ListEventsOptions
	if err := optionalFromJS(arg(args, 0), &o, "listEvents options"); err != nil {
		return failed(err)
	}
	return func() (any, error) {
		c, err := a.current()
		if err != nil {
			return nil, err
		}
		evs, err := c.ListEvents(context.Background(), dc.EventQuery{
			EntityGUID: o.EntityGUID, SyncLevel: dc.SyncLevel(o.SyncLevel), Limit: o.Limit})
		if err != nil {
			return nil, err
		}
		return rawJSON(appendEventsJSON(nil, evs)), nil
	}
}

// AuditLogOptions are auditLog()'s options.
type AuditLogOptions struct {
	EntityGUID string `json:"entityGuid"`
	Limit      int    `json:"limit"`
}

func (a *API) auditLog(args []js.Value) func() (any, error) {
	var o AuditLogOptions
	if err := optionalFromJS(arg(args, 0), &o, "auditLog options"); err != nil {
		return failed(err)
	}
	return func() (any, error) {
		c, err := a.current()
		if err != nil {
			return nil, err
		}
		as, err := c.AuditLog(context.Background(), dc.AuditQuery{EntityGUID: o.EntityGUID, Limit: o.Limit})
		if err != nil {
			return nil, err
		}
		if as == nil {
			as = []*dc.AuditEntry{}
		}
		return toJS(as)
	}
}
