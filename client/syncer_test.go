package client_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/store"
)

// fakeClock drives a Syncer's timers by hand.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool { c.mu.Lock(); defer c.mu.Unlock(); was := !t.stopped; t.stopped = true; return was }
}

// next returns the delay to the earliest armed timer, or false.
func (c *fakeClock) next() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best *fakeTimer
	for _, t := range c.timers {
		if !t.stopped && (best == nil || t.at.Before(best.at)) {
			best = t
		}
	}
	if best == nil {
		return 0, false
	}
	return best.at.Sub(c.now), true
}

// fire advances the clock to the earliest armed timer and runs it.
func (c *fakeClock) fire(t *testing.T) time.Duration {
	t.Helper()
	c.mu.Lock()
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	var ft *fakeTimer
	for _, x := range c.timers {
		if !x.stopped {
			ft = x
			break
		}
	}
	require.NotNil(t, ft, "no timer armed")
	d := ft.at.Sub(c.now)
	c.now = ft.at
	ft.stopped = true
	c.mu.Unlock()
	ft.f()
	return d
}

// fakeServer is an in-memory sync server with a queue of injected faults.
type fakeServer struct {
	mu      sync.Mutex
	events  []*dc.Event
	byGUID  map[string]int64
	faults  []error
	reject  map[string]string // event type -> rejection message
	pushes  int
	reports []*dc.DeviceReport
}

func newFakeServer() *fakeServer {
	return &fakeServer{byGUID: map[string]int64{}, reject: map[string]string{}}
}

func (s *fakeServer) fail(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, errs...)
}

func (s *fakeServer) fault() error {
	if len(s.faults) == 0 {
		return nil
	}
	err := s.faults[0]
	s.faults = s.faults[1:]
	return err
}

func (s *fakeServer) Push(_ context.Context, req *dc.PushRequest) (*dc.PushResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fault(); err != nil {
		return nil, err
	}
	s.pushes++
	resp := &dc.PushResponse{}
	for _, e := range req.Events {
		if msg, bad := s.reject[e.Type]; bad {
			resp.Results = append(resp.Results, dc.PushResult{GUID: e.GUID, Status: dc.PushRejected, Code: dc.EINVALID, Message: msg})
			continue
		}
		if seq, ok := s.byGUID[e.GUID]; ok {
			resp.Results = append(resp.Results, dc.PushResult{GUID: e.GUID, Status: dc.PushDuplicate, Seq: seq})
			continue
		}
		ev := e.Clone()
		ev.Seq, ev.SyncLevel, ev.LSeq = int64(len(s.events)+1), dc.Synced, 0
		s.events = append(s.events, ev)
		s.byGUID[ev.GUID] = ev.Seq
		resp.Results = append(resp.Results, dc.PushResult{GUID: e.GUID, Status: dc.PushAccepted, Seq: ev.Seq})
	}
	return resp, nil
}

func (s *fakeServer) Pull(_ context.Context, q dc.PullQuery) (*dc.PullResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fault(); err != nil {
		return nil, err
	}
	resp := &dc.PullResponse{NextCursor: q.Since}
	for _, e := range s.events[min(int(q.Since), len(s.events)):] {
		if len(resp.Events) == q.Limit {
			resp.HasMore = true
			break
		}
		resp.Events = append(resp.Events, e.Clone())
		resp.NextCursor = e.Seq
	}
	return resp, nil
}

func (s *fakeServer) Plan(_ context.Context, since int64) (*dc.PlanResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &dc.PlanResponse{Pull: max(len(s.events)-int(since), 0), Cursor: since}, nil
}

func (s *fakeServer) Report(_ context.Context, r *dc.DeviceReport) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := *r
	s.reports = append(s.reports, &cp)
	return nil
}

func (s *fakeServer) snapshotReports() []*dc.DeviceReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*dc.DeviceReport(nil), s.reports...)
}

// recorder is a SyncListener that keeps what it heard.
type recorder struct {
	mu      sync.Mutex
	synced  []dc.SyncMetrics
	errs    []error
	alerts  []client.Alert
	auth    int
	changes int
}

func (r *recorder) StatusChanged() { r.mu.Lock(); r.changes++; r.mu.Unlock() }
func (r *recorder) Synced(_ client.SyncResult, m dc.SyncMetrics, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.synced = append(r.synced, m)
	r.errs = append(r.errs, err)
}
func (r *recorder) Alert(a client.Alert) { r.mu.Lock(); r.alerts = append(r.alerts, a); r.mu.Unlock() }
func (r *recorder) AuthRequired(error)   { r.mu.Lock(); r.auth++; r.mu.Unlock() }
func (r *recorder) last() dc.SyncMetrics {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.synced[len(r.synced)-1]
}
func (r *recorder) attempts() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.synced) }

type syncerEnv struct {
	clock  *fakeClock
	store  *store.Memory
	client *client.Client
	server *fakeServer
	rec    *recorder
	syncer *client.Syncer
}

var epoch = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func newSyncerEnv(t *testing.T) *syncerEnv {
	e := &syncerEnv{clock: &fakeClock{now: epoch}, store: store.NewMemory(), server: newFakeServer(), rec: &recorder{}}
	e.client = client.New(e.store, client.Options{UserID: "u1", Now: e.clock.Now})
	e.syncer = e.newSyncer()
	t.Cleanup(e.syncer.Close)
	return e
}

func (e *syncerEnv) newSyncer() *client.Syncer {
	return client.NewSyncer(e.client, e.server, client.SyncerOptions{
		Rand: func() float64 { return 1 }, AfterFunc: e.clock.AfterFunc, Listener: e.rec, DeviceID: "dev1"})
}

func (e *syncerEnv) record(t *testing.T, name string) {
	t.Helper()
	_, err := e.client.SubmitForm(context.Background(), client.Form{Type: "create-individual", Data: map[string]any{"name": name}})
	require.NoError(t, err)
}

func (e *syncerEnv) status(t *testing.T) client.Status {
	t.Helper()
	st, err := e.syncer.Status(context.Background())
	require.NoError(t, err)
	return st
}

var err503 = &dc.Error{Code: dc.ENETWORK, Message: "HTTP 503", Status: 503}

func TestSyncerRetriesThenSucceeds(t *testing.T) {
	e := newSyncerEnv(t)
	e.syncer.SetOnline(true)
	require.Equal(t, time.Duration(0), e.clock.fire(t), "going online syncs at once")
	require.Equal(t, 1, e.rec.attempts())

	e.server.fail(err503, err503)
	e.record(t, "Ana")
	st := e.status(t)
	assert.Equal(t, 1, st.PendingEvents)
	assert.Equal(t, 2*time.Second, e.clock.fire(t), "debounced")
	st = e.status(t)
	assert.Equal(t, 1, st.RetryAttempts)
	assert.Equal(t, "ENETWORK", st.LastError.Code)
	assert.Equal(t, epoch.Add(3*time.Second).Format(time.RFC3339Nano), st.NextRetry, "1 s backoff (rand=1)")
	assert.Equal(t, time.Second, e.clock.fire(t))
	assert.Equal(t, 2*time.Second, e.clock.fire(t), "the delay doubles")

	m := e.rec.last()
	assert.Equal(t, 2, m.RetryAttempts)
	assert.Equal(t, 2, m.ErrorsEncountered)
	assert.Equal(t, 1, m.EntitiesSynced)
	st = e.status(t)
	assert.Zero(t, st.PendingEvents)
	assert.Nil(t, st.LastError)
	assert.Equal(t, "", st.NextRetry)
	assert.Equal(t, epoch.Add(5*time.Second).Format(time.RFC3339Nano), st.LastSyncTime)
	d, ok := e.clock.next()
	require.True(t, ok)
	assert.Equal(t, 30*time.Second, d, "then it polls")

	// Every attempt is audited on the device.
	audit, err := e.client.AuditLog(context.Background(), dc.AuditQuery{})
	require.NoError(t, err)
	var ops []string
	for _, a := range audit {
		if a.Action == dc.AuditSync {
			ops = append(ops, a.Status+" "+a.DeviceID+" "+fmt.Sprint(a.Events))
		}
	}
	assert.Equal(t, []string{"ok dev1 2", "error dev1 0", "error dev1 0", "ok dev1 0"}, ops, "newest first; the pushed event comes back in the pull")
	// Telemetry goes in the background after each attempt.
	require.Eventually(t, func() bool { return len(e.server.snapshotReports()) == 4 }, 5*time.Second, time.Millisecond)
	retries := 0
	for _, r := range e.server.snapshotReports() {
		retries = max(retries, r.Metrics.RetryAttempts)
	}
	assert.Equal(t, 2, retries)
}

func TestSyncerAuthStopsRetries(t *testing.T) {
	e := newSyncerEnv(t)
	e.server.fail(&dc.Error{Code: dc.EUNAUTHORIZED, Message: "token expired", Status: 401})
	e.record(t, "Ana")
	e.syncer.SetOnline(true)
	e.clock.fire(t)
	assert.Equal(t, 1, e.rec.auth)
	_, armed := e.clock.next()
	assert.False(t, armed, "no retry after a 401")
	assert.True(t, e.status(t).AuthRequired)
	e.record(t, "Ben")
	_, armed = e.clock.next()
	assert.False(t, armed, "new records wait for the login too")

	require.NoError(t, e.syncer.Resume(context.Background()))
	assert.Equal(t, time.Duration(0), e.clock.fire(t))
	st := e.status(t)
	assert.False(t, st.AuthRequired)
	assert.Zero(t, st.PendingEvents)
}

func TestSyncerOffline(t *testing.T) {
	e := newSyncerEnv(t)
	e.record(t, "Ana")
	_, armed := e.clock.next()
	assert.False(t, armed, "offline: nothing is attempted")
	assert.Zero(t, e.rec.attempts())
	assert.False(t, e.status(t).Online)
	e.syncer.SetOnline(true)
	e.clock.fire(t)
	assert.Zero(t, e.status(t).PendingEvents)
	assert.Equal(t, 1, e.server.pushes)
}

func TestSyncerRejectedEventsAndRetryFailed(t *testing.T) {
	e := newSyncerEnv(t)
	ctx := context.Background()
	e.server.reject["create-individual"] = "registry closed"
	for i := range 11 {
		e.record(t, fmt.Sprint("p", i))
	}
	res, err := e.syncer.Sync(ctx, client.SyncBoth)
	require.NoError(t, err)
	assert.Equal(t, 11, res.Failed)
	st := e.status(t)
	assert.Equal(t, 11, st.FailedEvents)
	assert.Zero(t, st.PendingEvents)
	require.Len(t, e.rec.alerts, 1, "more than 10 errors")
	assert.Equal(t, "errors", e.rec.alerts[0].Type)

	in, err := e.syncer.Inspect(ctx)
	require.NoError(t, err)
	require.Len(t, in.FailedItems, 11)
	assert.Equal(t, "registry closed", in.FailedItems[0].Message)
	p, err := e.syncer.Plan(ctx)
	require.NoError(t, err)
	assert.Equal(t, client.Plan{Push: 0, Pull: 0}, p)

	delete(e.server.reject, "create-individual")
	n, err := e.syncer.RetryFailed(ctx)
	require.NoError(t, err)
	assert.Equal(t, 11, n)
	p, err = e.syncer.Plan(ctx)
	require.NoError(t, err)
	assert.Equal(t, client.Plan{Push: 11, Pull: 0}, p)
	_, err = e.syncer.Sync(ctx, client.SyncBoth)
	require.NoError(t, err)
	st = e.status(t)
	assert.Zero(t, st.FailedEvents)
	assert.Zero(t, st.PendingEvents)
}

func TestSyncerGivesUp(t *testing.T) {
	e := newSyncerEnv(t)
	e.record(t, "Ana")
	for range 10 {
		e.server.fail(&dc.Error{Code: dc.ENETWORK, Message: "offline"})
	}
	e.syncer.SetOnline(true)
	var waited time.Duration
	for range 10 {
		waited += e.clock.fire(t)
	}
	_, armed := e.clock.next()
	assert.False(t, armed, "10 failures in a row: no more automatic attempts")
	assert.Equal(t, 10, e.rec.attempts())
	assert.Equal(t, (1+2+4+8+16+32+64+128+256)*time.Second, waited, "rand=1: 1 s doubling")
	require.NotEmpty(t, e.rec.alerts)
	assert.Equal(t, "gave-up", e.rec.alerts[len(e.rec.alerts)-1].Type)
	e.record(t, "Ben")
	e.clock.fire(t)
	assert.Zero(t, e.status(t).PendingEvents, "a new record restarts syncing")
}

func TestSyncerStatusSurvivesRestart(t *testing.T) {
	e := newSyncerEnv(t)
	e.record(t, "Ana")
	e.syncer.SetOnline(true)
	e.clock.fire(t)
	before := e.status(t)
	require.NotEmpty(t, before.LastSyncTime)
	e.syncer.Close()

	again := e.newSyncer()
	defer again.Close()
	st, err := again.Status(context.Background())
	require.NoError(t, err)
	assert.Equal(t, before.LastSyncTime, st.LastSyncTime)
	m, err := again.Metrics(context.Background())
	require.NoError(t, err)
	require.NotNil(t, m)
	assert.Equal(t, 1, m.EntitiesSynced)
}

func TestSyncerPolicyIsCore(t *testing.T) {
	// The Syncer takes its decisions from core.Scheduler: a 400 is final.
	e := newSyncerEnv(t)
	e.server.fail(&dc.Error{Code: dc.EINVALID, Message: "bad request", Status: 400})
	e.record(t, "Ana")
	e.syncer.SetOnline(true)
	e.clock.fire(t)
	_, armed := e.clock.next()
	assert.False(t, armed)
	o, _ := core.Classify(&dc.Error{Status: 400})
	assert.Equal(t, core.OutcomeFatal, o)
	assert.Equal(t, 1, e.status(t).PendingEvents)
}
