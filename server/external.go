package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/external"
)

// External sync: the server's side of delivering an app's entities to an
// external registry through an external.Adapter (OpenSPP, a webhook) and
// pulling the registry's changes back, with guaranteed delivery.
//
//   - The outbox: a scan follows the app's event log from a stored cursor
//     and enqueues (store.ScanOutbox, one transaction with the cursor) the
//     entities every event changed, except the events external sync wrote
//     itself (link-external, and those of users "external:<adapter>"): no
//     echo loop.
//   - Delivery: due rows, individuals first, are pushed in batches; a
//     success writes a link-external event (deterministic guid: a retry
//     is a duplicate) and only then deletes the row. A crash anywhere
//     leaves the row, and the next push finds the record by its guid
//     instead of creating it again. Failures back off exponentially
//     (30 s doubling to 1 h, with jitter); non-retryable ones (EVALIDATION,
//     EACCESS, EAUTH, ...) stay failed until the entity changes or an
//     admin retries them. One record's failure never blocks another's.
//   - Pull: pages after the stored cursor become events pushed like a
//     device's (user "external:<adapter>", deterministic guids), and the
//     cursor is saved after each page is applied.
//   - One run per app at a time across every server on the database (a
//     lease in the store).

// ExternalUserPrefix prefixes the user id of the events external sync
// writes ("external:openspp").
const ExternalUserPrefix = "external:"

// Tuning of external sync runs.
const (
	externalLeaseTTL   = 5 * time.Minute
	externalScanBatch  = 1000
	externalPushBatch  = 100
	externalBackoff    = 30 * time.Second
	externalBackoffMax = time.Hour
	externalMaxNotes   = 50
)

// externalNS is the namespace of external sync's deterministic UUIDs.
var externalNS = uuid.MustParse("5d0c4f0e-6a57-4b8e-9a43-0c1d2f6b7e21")

func externalUUID(parts ...string) string {
	return uuid.NewSHA1(externalNS, []byte(strings.Join(parts, "\x00"))).String()
}

// ExternalSummary is the result of one external sync run of an app.
type ExternalSummary struct {
	App        string `json:"app"`
	Adapter    string `json:"adapter"`
	StartedAt  string `json:"startedAt"`
	DurationMs int64  `json:"durationMs"`
	// Scanned is the number of events the outbox scan read.
	Scanned int `json:"scanned"`
	// Pushed entities were delivered (Created new records, Updated
	// existing ones); Failed ones were not (see the failures).
	Pushed  int `json:"pushed"`
	Created int `json:"created"`
	Updated int `json:"updated"`
	Failed  int `json:"failed"`
	// Pulled records were read from the external system; Applied of them
	// changed something here.
	Pulled  int `json:"pulled"`
	Applied int `json:"applied"`
	// Notes are what the run skipped (e.g. members not known yet).
	Notes []string `json:"notes,omitempty"`
	// Error is why the run stopped early ("" when it completed).
	Error string `json:"error,omitempty"`
}

func (s *ExternalSummary) note(format string, args ...any) {
	if len(s.Notes) < externalMaxNotes {
		s.Notes = append(s.Notes, fmt.Sprintf(format, args...))
	}
}

// ExternalProgress receives a run's progress: phase "scan", "push" or
// "pull", how many items are done and (0 when unknown) how many in all.
type ExternalProgress func(phase string, done, total int)

// externalStore returns the server's store as an external sync store.
func (s *Server) externalStore() (dc.ExternalStore, error) {
	es, ok := s.store.(dc.ExternalStore)
	if !ok {
		return nil, dc.Errorf(dc.ENOTFOUND, "this server's store does not support external sync")
	}
	return es, nil
}

// RunExternalSync runs one external sync of app: the outbox scan, the
// delivery of the due entities, then pulls until no page is left. It
// fails with ENOTFOUND when app has no configuration, EINVALID when it is
// disabled or invalid and ECONFLICT when a run of app is under way (on
// any server of the database). A failure of the external system does not
// fail the call: the summary's Error says where the run stopped, and the
// store keeps the summary as the app's last run.
func (s *Server) RunExternalSync(ctx context.Context, app string, progress ExternalProgress) (*ExternalSummary, error) {
	es, err := s.externalStore()
	if err != nil {
		return nil, err
	}
	rec, err := es.ExternalConfig(ctx, app)
	if err != nil {
		return nil, err
	}
	if !rec.Enabled {
		return nil, dc.Errorf(dc.EINVALID, "external sync of app %s is disabled", app)
	}
	cfg, err := decodeExternalConfig(rec)
	if err != nil {
		return nil, err
	}
	a, err := external.New(cfg.Adapter)
	if err == nil {
		err = a.Initialize(ctx, cfg)
	}
	if err != nil {
		return nil, dc.Errorf(dc.EINVALID, "external sync of app %s: %v", app, err)
	}
	owner := uuid.NewString()
	ok, err := es.AcquireExternalLease(ctx, app, owner, s.now(), externalLeaseTTL)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, dc.Errorf(dc.ECONFLICT, "external sync of app %s is already running", app)
	}
	defer func() { _ = es.ReleaseExternalLease(context.WithoutCancel(ctx), app, owner) }()
	if progress == nil {
		progress = func(string, int, int) {}
	}
	start := time.Now()
	sum := &ExternalSummary{App: app, Adapter: cfg.Adapter, StartedAt: dc.FormatTime(s.now())}
	r := &extRun{s: s, es: es, app: app, a: a, cfg: cfg, owner: owner, user: ExternalUserPrefix + cfg.Adapter,
		progress: progress, sum: sum}
	runErr := r.run(ctx)
	sum.DurationMs = time.Since(start).Milliseconds()
	if runErr != nil {
		sum.Error = runErr.Error()
	}
	s.metrics.externalRuns.WithLabelValues(map[bool]string{true: "ok", false: "error"}[runErr == nil]).Inc()
	if b, err := json.Marshal(sum); err == nil {
		if err := es.SetExternalLastRun(context.WithoutCancel(ctx), app, b); err != nil {
			s.log.Error("external sync: store the last run", "app", app, "err", err)
		}
	}
	s.log.Info("external sync", "app", app, "adapter", cfg.Adapter, "pushed", sum.Pushed, "failed", sum.Failed,
		"pulled", sum.Pulled, "applied", sum.Applied, "error", sum.Error)
	// Store failures fail the call; the external system's are in the
	// summary.
	var de *dc.Error
	if runErr != nil && errors.As(runErr, &de) {
		return sum, runErr
	}
	return sum, nil
}

// extRun is one run of an app.
type extRun struct {
	s        *Server
	es       dc.ExternalStore
	app      string
	a        external.Adapter
	cfg      external.Config
	owner    string
	user     string
	progress ExternalProgress
	sum      *ExternalSummary
}

func (r *extRun) run(ctx context.Context) error {
	if err := r.scan(ctx); err != nil {
		return err
	}
	if err := r.push(ctx); err != nil {
		return err
	}
	return r.pull(ctx)
}

// renew extends the lease; a lost lease stops the run.
func (r *extRun) renew(ctx context.Context) error {
	ok, err := r.es.AcquireExternalLease(ctx, r.app, r.owner, r.s.now(), externalLeaseTTL)
	if err != nil {
		return err
	}
	if !ok {
		return dc.Errorf(dc.ECONFLICT, "external sync of app %s: the lease was taken over", r.app)
	}
	return nil
}

// skipExternal reports the events external sync wrote itself: they are not
// sent back.
func skipExternal(ev *dc.Event) bool {
	return ev.Type == core.LinkExternal || strings.HasPrefix(ev.UserID, ExternalUserPrefix)
}

func (r *extRun) scan(ctx context.Context) error {
	st, err := r.es.ExternalState(ctx, r.app)
	if err != nil {
		return err
	}
	total, err := r.s.store.CountAfter(ctx, r.app, st.OutboxCursor)
	if err != nil {
		return err
	}
	r.progress("scan", 0, total)
	for {
		n, more, err := r.es.ScanOutbox(ctx, r.app, externalScanBatch, r.s.now(), skipExternal)
		if err != nil {
			return err
		}
		r.sum.Scanned += n
		r.progress("scan", r.sum.Scanned, max(total, r.sum.Scanned))
		if !more {
			return nil
		}
	}
}

// backoff is the delay before attempt n+1 after n failed ones: 30 s
// doubling, at most an hour, with ±25 % jitter.
func backoff(n int) time.Duration {
	d := externalBackoff
	for i := 1; i < n && d < externalBackoffMax; i++ {
		d *= 2
	}
	d = min(d, externalBackoffMax)
	return d + time.Duration((rand.Float64()-0.5)*0.5*float64(d))
}

func (r *extRun) push(ctx context.Context) error {
	pending, _, err := r.es.OutboxCounts(ctx, r.app)
	if err != nil {
		return err
	}
	// Rows are due as of the run's start: a row that fails now is due
	// later, so each row is tried at most once per run.
	due := r.s.now()
	seen := map[string]bool{}
	done := 0
	r.progress("push", 0, pending)
	for {
		items, err := r.es.DueOutbox(ctx, r.app, due, externalPushBatch)
		if err != nil {
			return err
		}
		fresh := items[:0:0]
		for _, it := range items {
			if !seen[it.EntityGUID] {
				seen[it.EntityGUID] = true
				fresh = append(fresh, it)
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		if err := r.renew(ctx); err != nil {
			return err
		}
		if err := r.pushBatch(ctx, fresh); err != nil {
			return err
		}
		done += len(fresh)
		r.progress("push", done, max(pending, done))
	}
}

// pushBatch delivers one batch of outbox rows.
func (r *extRun) pushBatch(ctx context.Context, items []*dc.OutboxItem) error {
	cache := map[string]*dc.Entity{}
	load := func(guid string) (*dc.Entity, error) {
		if e, ok := cache[guid]; ok {
			return e, nil
		}
		e, err := r.s.store.Entity(ctx, r.app, guid)
		if err != nil {
			return nil, err
		}
		cache[guid] = e
		return e, nil
	}
	var ents []*dc.Entity
	var rows []*dc.OutboxItem
	for _, it := range items {
		e, err := load(it.EntityGUID)
		if err != nil {
			return err
		}
		if e == nil { // nothing to deliver
			if err := r.es.AckOutbox(ctx, r.app, it.EntityGUID, it.Gen); err != nil {
				return err
			}
			continue
		}
		ents, rows = append(ents, e), append(rows, it)
	}
	if len(ents) == 0 {
		return nil
	}
	lookup := func(guid string) (*dc.Entity, bool) {
		e, err := load(guid)
		return e, err == nil && e != nil
	}
	results := r.a.Push(ctx, ents, lookup)
	var links []*dc.Event
	var acks []*dc.OutboxItem
	now := r.s.now()
	for i, res := range results {
		if i >= len(ents) {
			break
		}
		e, it := ents[i], rows[i]
		if res.Err != nil {
			r.sum.Failed++
			r.s.metrics.externalPushed.WithLabelValues(res.Err.Code).Inc()
			f := dc.OutboxFailure{Status: dc.OutboxFailed, Code: res.Err.Code, Message: res.Err.Message, Now: now,
				NextAttempt: now}
			if res.Err.Retryable {
				f.Status, f.NextAttempt = dc.OutboxPending, now.Add(backoff(it.Attempts+1))
			}
			if err := r.es.FailOutbox(ctx, r.app, it.EntityGUID, it.Gen, f); err != nil {
				return err
			}
			continue
		}
		r.sum.Pushed++
		r.s.metrics.externalPushed.WithLabelValues("ok").Inc()
		if res.Created {
			r.sum.Created++
		} else {
			r.sum.Updated++
		}
		if res.ExternalID != "" && (res.ExternalID != e.ExternalID || e.SyncLevel != dc.External) {
			links = append(links, r.linkEvent(e.GUID, res.ExternalID, fmt.Sprint(e.Version), now))
		}
		acks = append(acks, it)
	}
	// The ids are written back before the rows are acknowledged: a crash
	// in between pushes again, and the adapter finds the records.
	if len(links) > 0 {
		res, err := r.s.Push(ctx, r.app, r.user, links)
		if err != nil {
			return err
		}
		for _, x := range res {
			if x.Status == dc.PushRejected {
				r.sum.note("link-external %s refused: %s %s", x.GUID, x.Code, x.Message)
			}
		}
	}
	for _, it := range acks {
		if err := r.es.AckOutbox(ctx, r.app, it.EntityGUID, it.Gen); err != nil {
			return err
		}
	}
	return nil
}

// linkEvent is the link-external event of an entity; its guid depends only
// on app, entity, external id and what the link is about, so writing it
// again is a duplicate.
func (r *extRun) linkEvent(entity, externalID, about string, now time.Time) *dc.Event {
	return &dc.Event{
		GUID:       externalUUID("link", r.app, entity, externalID, about),
		EntityGUID: entity,
		Type:       core.LinkExternal,
		Data:       map[string]any{"adapter": r.cfg.Adapter, "externalId": externalID},
		Timestamp:  dc.FormatTime(now),
		SyncLevel:  dc.Synced,
	}
}

// decodeExternalConfig returns the adapter configuration of rec.
func decodeExternalConfig(rec *dc.ExternalConfig) (external.Config, error) {
	var cfg external.Config
	if err := json.Unmarshal(rec.Config, &cfg); err != nil {
		return cfg, dc.Errorf(dc.EINVALID, "external config of app %s: %v", rec.AppID, err)
	}
	cfg.Adapter = rec.Adapter
	return cfg, nil
}
