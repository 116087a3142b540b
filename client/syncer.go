package client

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
)

// SyncerOptions configure a Syncer. Zero values get defaults.
type SyncerOptions struct {
	// Sync tunes each sync (batch and page sizes, progress).
	Sync SyncOptions
	// Policy tunes retries, debounce and polling (core.DefaultSchedulePolicy).
	Policy core.SchedulePolicy
	// Rand returns numbers in [0, 1) for the backoff jitter.
	Rand func() float64
	// AfterFunc arms a timer (default time.AfterFunc); tests inject a fake.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// Lock runs fn while holding the app's sync lock, so that two tabs (two
	// Syncers on one database) never sync at once. The default only
	// serialises this Syncer's own syncs.
	Lock func(ctx context.Context, fn func() error) error
	// DeviceID is recorded in audit entries.
	DeviceID string
	// NoTelemetry turns off the report sent to the server after each sync.
	NoTelemetry bool
	// Listener is told about status changes, metrics, alerts, 401s and
	// finished syncs. Its methods run on the Syncer's goroutines and must
	// not block.
	Listener SyncListener
}

// SyncListener receives a Syncer's notifications. Embed NopListener to
// implement only some methods.
type SyncListener interface {
	// StatusChanged says the status may have changed: read it with Status.
	StatusChanged()
	// Synced reports a finished attempt, successful or not (err).
	Synced(res SyncResult, m dc.SyncMetrics, err error)
	// Alert reports a sync that saw too many errors, or retries given up.
	Alert(a Alert)
	// AuthRequired reports that the server refused the session (401):
	// automatic sync waits until Resume (after a new login).
	AuthRequired(err error)
}

// NopListener ignores every notification.
type NopListener struct{}

func (NopListener) StatusChanged()                           {}
func (NopListener) Synced(SyncResult, dc.SyncMetrics, error) {}
func (NopListener) Alert(Alert)                              {}
func (NopListener) AuthRequired(error)                       {}

// Alert is raised when a sync sees more than AlertErrors errors, or when
// automatic retries give up.
type Alert struct {
	// Type is "errors" or "gave-up".
	Type    string     `json:"type"`
	Message string     `json:"message"`
	Errors  int        `json:"errors"`
	Error   *ErrorInfo `json:"error,omitempty"`
}

// AlertErrors is the number of errors in one sync above which an alert fires.
const AlertErrors = 10

// Syncer keeps a Client in sync with a server by itself: a debounced sync
// after local changes, one when the network returns, idle polling that
// backs off while nothing changes, and retries with exponential backoff on
// transient failures (all decided by core.Scheduler). It records each
// attempt's status, metrics and audit entry durably, and reports telemetry.
type Syncer struct {
	c *Client
	t Transport
	o SyncerOptions

	mu        sync.Mutex
	sched     *core.Scheduler
	stopTimer func() bool
	closed    bool
	running   bool
	rowErrors int // errors of the failed attempts in the current row
	metrics   *dc.SyncMetrics
	unsub     func()
	runs      flight
}

// NewSyncer returns a Syncer of c over t, offline until SetOnline(true).
func NewSyncer(c *Client, t Transport, o SyncerOptions) *Syncer {
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.AfterFunc == nil {
		o.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if o.Lock == nil {
		o.Lock = func(_ context.Context, fn func() error) error { return fn() }
	}
	if o.Listener == nil {
		o.Listener = NopListener{}
	}
	o.Sync = o.Sync.withDefaults()
	s := &Syncer{c: c, t: t, o: o, sched: core.NewScheduler(o.Policy, o.Rand)}
	s.unsub = c.Subscribe(func(ch Change) {
		if ch.Local {
			s.LocalChange()
		}
	})
	return s
}

// Close stops automatic syncs. A sync in flight completes.
func (s *Syncer) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.stopTimer != nil {
		s.stopTimer()
	}
	s.unsub()
}

// SetOnline tells the Syncer whether the network is up: going online syncs
// at once; offline, nothing is attempted.
func (s *Syncer) SetOnline(online bool) {
	s.update(func(now time.Time) { s.sched.SetOnline(now, online) })
}

// SetAuto turns automatic syncing on or off; Sync still works when off.
func (s *Syncer) SetAuto(on bool) {
	s.update(func(now time.Time) { s.sched.SetAuto(now, on) })
}

// LocalChange schedules a debounced sync after data were recorded.
func (s *Syncer) LocalChange() {
	s.update(func(now time.Time) { s.sched.LocalChange(now) })
}

// WaitForLogin stops automatic syncing until Resume: there is no session
// (nobody logged in yet, or logged out).
func (s *Syncer) WaitForLogin() {
	s.update(func(time.Time) { s.sched.Block() })
}

// Resume lifts the wait after a 401 (call it after a new login) and syncs.
func (s *Syncer) Resume(ctx context.Context) error {
	if err := s.clearAuth(ctx); err != nil {
		return err
	}
	s.update(func(now time.Time) { s.sched.Resume(now) })
	return nil
}

// update applies a scheduler input, re-arms the timer and tells the
// listener.
func (s *Syncer) update(fn func(now time.Time)) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	fn(s.c.now())
	s.armLocked()
	s.mu.Unlock()
	s.o.Listener.StatusChanged()
}

// armLocked arms the timer for the scheduler's next automatic sync.
func (s *Syncer) armLocked() {
	if s.stopTimer != nil {
		s.stopTimer()
		s.stopTimer = nil
	}
	at, _, ok := s.sched.Next()
	if !ok || s.closed {
		return
	}
	d := max(at.Sub(s.c.now()), 0)
	s.stopTimer = s.o.AfterFunc(d, s.fire)
}

// fire runs when the timer goes off.
func (s *Syncer) fire() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if s.running {
		s.mu.Unlock()
		return // the run re-arms the timer when it ends
	}
	trig, due := s.sched.Due(s.c.now())
	if !due {
		s.armLocked()
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	_, _ = s.run(context.Background(), trig, SyncBoth)
}

// SyncKind selects what a sync does.
type SyncKind int

// Sync kinds.
const (
	SyncBoth SyncKind = iota // push, then pull
	SyncPush                 // push only
	SyncPull                 // pull only
)

// Sync runs a sync now (a call during a sync joins it) and records it like
// automatic ones.
func (s *Syncer) Sync(ctx context.Context, kind SyncKind) (SyncResult, error) {
	return s.run(ctx, core.TriggerManual, kind)
}

func (s *Syncer) run(ctx context.Context, trig core.Trigger, kind SyncKind) (SyncResult, error) {
	return s.runs.do(func() (SyncResult, error) {
		s.mu.Lock()
		s.running = true
		s.sched.Started(s.c.now(), trig)
		s.armLocked()
		s.mu.Unlock()
		s.o.Listener.StatusChanged()

		var res SyncResult
		err := s.o.Lock(ctx, func() error {
			var err error
			switch kind {
			case SyncPush:
				res, err = s.c.Push(ctx, s.t, s.o.Sync)
			case SyncPull:
				res, err = s.c.Pull(ctx, s.t, s.o.Sync)
			default:
				res, err = s.c.Sync(ctx, s.t, s.o.Sync)
			}
			return err
		})
		err = s.finish(ctx, trig, res, err)
		s.mu.Lock()
		s.running = false
		s.armLocked()
		s.mu.Unlock()
		return res, err
	})
}

// finish records an attempt: the scheduler's decision, the metrics, the
// persisted status and the audit entry (one commit), then notifies and
// sends the telemetry in the background. It returns the attempt's error,
// or the error recording it.
func (s *Syncer) finish(ctx context.Context, trig core.Trigger, res SyncResult, err error) error {
	now := s.c.now()
	s.mu.Lock()
	dec := s.sched.Finished(now, err, res.Pushed+res.Pulled > 0)
	errs := res.Failed
	if err != nil {
		errs++
	}
	s.rowErrors += errs
	m := dc.SyncMetrics{
		SyncDuration: res.DurationMs, EntitiesSynced: res.Entities,
		BytesTransferred: res.BytesSent + res.BytesReceived, ConflictsResolved: res.Conflicts,
		ErrorsEncountered: s.rowErrors, RetryAttempts: max(dec.Attempt-1, 0),
	}
	if dec.Outcome == core.OutcomeOK {
		m.RetryAttempts = dec.Retries
	}
	if dec.Outcome != core.OutcomeRetry || dec.GaveUp {
		s.rowErrors = 0 // the row of attempts ends
	}
	s.metrics = &m
	s.mu.Unlock()

	saved, serr := s.c.savedStatus(ctx)
	if serr == nil {
		saved.LastAttempt = formatTime(now)
		saved.LastError = errorInfo(err)
		saved.RetryAttempts = dec.Attempt
		saved.NextRetry = formatTime(dec.RetryAt)
		saved.Metrics = &m
		saved.Conflicts = res.Conflicts
		switch dec.Outcome {
		case core.OutcomeOK:
			saved.LastSyncTime = formatTime(now)
			saved.AuthRequired = false
		case core.OutcomeAuth:
			saved.AuthRequired = true
		}
		serr = s.saveStatus(ctx, saved, s.auditEntry(now, trig, res, err))
	}
	if serr != nil && err == nil {
		err = serr
	}
	l := s.o.Listener
	l.Synced(res, m, err)
	if dec.Outcome == core.OutcomeAuth {
		l.AuthRequired(err)
	}
	if m.ErrorsEncountered > AlertErrors {
		l.Alert(Alert{Type: "errors", Errors: m.ErrorsEncountered, Error: errorInfo(err),
			Message: fmt.Sprintf("sync saw %d errors", m.ErrorsEncountered)})
	}
	if dec.GaveUp {
		l.Alert(Alert{Type: "gave-up", Errors: m.ErrorsEncountered, Error: errorInfo(err),
			Message: fmt.Sprintf("gave up after %d failed attempts in a row: sync again by hand, or wait for the network or a new record", dec.Attempt)})
	}
	l.StatusChanged()
	if !s.o.NoTelemetry && dec.Outcome != core.OutcomeAuth {
		go s.report(context.WithoutCancel(ctx), saved, m)
	}
	return err
}

func (s *Syncer) auditEntry(now time.Time, trig core.Trigger, res SyncResult, err error) *dc.AuditEntry {
	a := &dc.AuditEntry{
		GUID: s.c.newGUID(), Timestamp: formatTime(now), UserID: s.c.user(), Action: dc.AuditSync,
		DeviceID: s.o.DeviceID, Entities: res.Entities, Events: res.Pushed + res.Pulled,
		DurationMs: res.DurationMs, Status: dc.AuditOK,
		Changes: []dc.FieldChange{{Field: "trigger", New: string(trig)}},
	}
	if err != nil {
		a.Status, a.Error = dc.AuditError, dc.ErrorCode(err)+": "+dc.ErrorMessage(err)
	} else if res.Failed > 0 {
		a.Error = fmt.Sprintf("%d events failed", res.Failed)
	}
	return a
}

// saveStatus persists the status, with an attempt's audit entries, in one
// commit.
func (s *Syncer) saveStatus(ctx context.Context, st savedStatus, audit ...*dc.AuditEntry) error {
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	b := &dc.Batch{Meta: map[string][]byte{statusKey: v}, Audit: audit}
	s.c.origin.saveClock(b)
	if err := s.c.store.Commit(ctx, b); err != nil {
		return fmt.Errorf("sync status: %w", err)
	}
	return nil
}

// clearAuth records that the session is valid again.
func (s *Syncer) clearAuth(ctx context.Context) error {
	st, err := s.c.savedStatus(ctx)
	if err != nil || !st.AuthRequired {
		return err
	}
	st.AuthRequired = false
	return s.saveStatus(ctx, st)
}

// report sends the device's telemetry; a failure is ignored (the next
// attempt reports again).
func (s *Syncer) report(ctx context.Context, st savedStatus, m dc.SyncMetrics) {
	pending, failed, err := s.c.Counts(ctx)
	if err != nil {
		return
	}
	cursor, _ := s.c.Cursor(ctx)
	r := &dc.DeviceReport{LastSyncTime: st.LastSyncTime, Pending: pending, Failed: failed,
		Conflicts: st.Conflicts, Cursor: cursor, Metrics: m}
	if st.LastError != nil {
		r.LastError = st.LastError.Code + ": " + st.LastError.Message
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = s.t.Report(ctx, r)
}

// Status returns the current status.
func (s *Syncer) Status(ctx context.Context) (Status, error) {
	saved, err := s.c.savedStatus(ctx)
	if err != nil {
		return Status{}, err
	}
	pending, failed, err := s.c.Counts(ctx)
	if err != nil {
		return Status{}, err
	}
	open, err := s.c.openConflicts(ctx)
	if err != nil {
		return Status{}, err
	}
	s.mu.Lock()
	st := s.sched.State()
	running := s.running
	s.mu.Unlock()
	out := Status{
		LastSyncTime: saved.LastSyncTime, SyncInProgress: running, PendingEvents: pending,
		FailedEvents: failed, Conflicts: open, Online: st.Online,
		LastAttempt: saved.LastAttempt, LastError: saved.LastError, RetryAttempts: saved.RetryAttempts,
		AuthRequired: saved.AuthRequired || st.AuthBlocked,
	}
	if st.NextTrigger == core.TriggerRetry {
		out.NextRetry = formatTime(st.NextAt)
	}
	return out, nil
}

// Metrics returns the last attempt's metrics (persisted), or nil before the
// first.
func (s *Syncer) Metrics(ctx context.Context) (*dc.SyncMetrics, error) {
	s.mu.Lock()
	m := s.metrics
	s.mu.Unlock()
	if m != nil {
		return m, nil
	}
	saved, err := s.c.savedStatus(ctx)
	return saved.Metrics, err
}

// RetryFailed re-queues the failed events and schedules a sync.
func (s *Syncer) RetryFailed(ctx context.Context) (int, error) {
	n, err := s.c.RetryFailed(ctx)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.LocalChange()
	}
	return n, nil
}

// Inspection is a support view of a device's sync state.
type Inspection struct {
	UnsyncedEvents      int             `json:"unsyncedEvents"`
	LastSync            string          `json:"lastSync"`
	Cursor              int64           `json:"cursor"`
	UnresolvedConflicts int             `json:"unresolvedConflicts"`
	FailedItems         []FailedItem    `json:"failedItems"`
	NextRetry           string          `json:"nextRetry"`
	NextSync            string          `json:"nextSync"`
	NextTrigger         string          `json:"nextTrigger"`
	Attempts            int             `json:"attempts"`
	Online              bool            `json:"online"`
	AutoSync            bool            `json:"autoSync"`
	AuthRequired        bool            `json:"authRequired"`
	PollIntervalMs      int64           `json:"pollIntervalMs"`
	LastError           *ErrorInfo      `json:"lastError"`
	Metrics             *dc.SyncMetrics `json:"metrics"`
	DeviceID            string          `json:"deviceId"`
}

// FailedItem is a failed event and why it failed.
type FailedItem struct {
	GUID       string `json:"guid"`
	EntityGUID string `json:"entityGuid"`
	Type       string `json:"type"`
	Timestamp  string `json:"timestamp"`
	Code       string `json:"code"`
	Message    string `json:"message"`
}

// Inspect returns the device's sync state for debugging (the first 100
// failed items).
func (s *Syncer) Inspect(ctx context.Context) (*Inspection, error) {
	st, err := s.Status(ctx)
	if err != nil {
		return nil, err
	}
	cursor, err := s.c.Cursor(ctx)
	if err != nil {
		return nil, err
	}
	failed, err := s.c.FailedEvents(ctx, 100)
	if err != nil {
		return nil, err
	}
	m, err := s.Metrics(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	ss := s.sched.State()
	s.mu.Unlock()
	in := &Inspection{
		UnsyncedEvents: st.PendingEvents, LastSync: st.LastSyncTime, Cursor: cursor,
		UnresolvedConflicts: st.Conflicts, FailedItems: make([]FailedItem, 0, len(failed)),
		NextRetry: st.NextRetry, NextSync: formatTime(ss.NextAt), NextTrigger: string(ss.NextTrigger),
		Attempts: ss.Attempts, Online: ss.Online, AutoSync: ss.Auto, AuthRequired: st.AuthRequired,
		PollIntervalMs: ss.PollInterval.Milliseconds(), LastError: st.LastError, Metrics: m, DeviceID: s.o.DeviceID,
	}
	for _, e := range failed {
		in.FailedItems = append(in.FailedItems, FailedItem{GUID: e.GUID, EntityGUID: e.EntityGUID,
			Type: e.Type, Timestamp: e.Timestamp, Code: e.Failure.Code, Message: e.Failure.Message})
	}
	return in, nil
}

// Plan is a dry run: how many events a sync would push and pull.
type Plan struct {
	Push int `json:"push"`
	Pull int `json:"pull"`
}

// Plan asks the server how many events a pull would bring and counts the
// events a push would send; nothing changes on either side.
func (s *Syncer) Plan(ctx context.Context) (Plan, error) {
	pending, _, err := s.c.Counts(ctx)
	if err != nil {
		return Plan{}, err
	}
	cursor, err := s.c.Cursor(ctx)
	if err != nil {
		return Plan{}, err
	}
	r, err := s.t.Plan(ctx, cursor)
	if err != nil {
		return Plan{}, fmt.Errorf("plan: %w", err)
	}
	return Plan{Push: pending, Pull: r.Pull}, nil
}
