package core_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/internal/scenario"
)

// schedEpoch is time zero of the schedule scenarios: t=1.5s is 1.5s after it.
var schedEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestScheduleScenarios runs testdata/schedule/*.txt. Every command takes
// t=DURATION (the clock as an offset from the schedEpoch; default: unchanged) and
// rand=R1,R2,... (values appended to the queue the jitter draws from; an
// empty queue fails the test). Commands:
//
//	new [base= max= attempts= debounce= maxwait= pollmin= pollmax=]  a fresh Scheduler and clock
//	online | offline | change | resume | auto on=BOOL      the inputs
//	start [trigger=T]             Started (T: what is due, else manual)
//	finish [ERR] [changed=true]   Finished
//	sync [for=D] [trigger=T] [ERR] [changed=true]   start at t, finish at t+for
//	advance to=D [n=N] [ERR] [changed=true]         run the automatic syncs due until to
//	next | due | state | classify ERR | delays n=N r=R [base= max=]
//
// ERR is err=network|timeout|canceled|deadline|plain|CODE|STATUS (code=CODE
// overrides the code a status gets) with optional retry-after=D and
// wrap=true. A command that changes the state prints what Next returns;
// finish and sync print the Decision first.
func TestScheduleScenarios(t *testing.T) {
	scenario.RunDir(t, "testdata/schedule", func(t *testing.T) func(*scenario.Command) string {
		h := &schedHarness{t: t, now: schedEpoch}
		h.s = core.NewScheduler(core.SchedulePolicy{}, h.rand)
		return h.handle
	})
}

type schedHarness struct {
	t     *testing.T
	s     *core.Scheduler
	now   time.Time
	queue []float64
}

func (h *schedHarness) rand() float64 {
	if len(h.queue) == 0 {
		h.t.Error("rand queue is empty: give rand=... values")
		return 0
	}
	r := h.queue[0]
	h.queue = h.queue[1:]
	return r
}

func (h *schedHarness) dur(c *scenario.Command, name string, def time.Duration) time.Duration {
	v, ok := c.Args[name]
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		h.t.Fatalf("line %d: %s: %v", c.Line, name, err)
	}
	return d
}

func (h *schedHarness) handle(c *scenario.Command) string {
	if c.Name == "new" {
		h.now = schedEpoch // a fresh Scheduler starts a fresh clock
	}
	now := schedEpoch.Add(h.dur(c, "t", h.now.Sub(schedEpoch)))
	if now.Before(h.now) {
		h.t.Errorf("line %d: t=%s goes back from %s", c.Line, schedOffset(now), schedOffset(h.now))
	}
	h.now = now
	if v, ok := c.Args["rand"]; ok {
		for _, f := range strings.Split(v, ",") {
			r, err := strconv.ParseFloat(f, 64)
			require.NoError(h.t, err, "line %d", c.Line)
			h.queue = append(h.queue, r)
		}
	}
	s := h.s
	switch c.Name {
	case "new":
		p := core.SchedulePolicy{
			Retry:    core.RetryPolicy{Base: h.dur(c, "base", 0), Max: h.dur(c, "max", 0)},
			Debounce: h.dur(c, "debounce", 0), MaxWait: h.dur(c, "maxwait", 0),
			PollMin: h.dur(c, "pollmin", 0), PollMax: h.dur(c, "pollmax", 0),
		}
		p.Retry.MaxAttempts, _ = strconv.Atoi(c.Arg("attempts", "0"))
		h.s = core.NewScheduler(p, h.rand)
		return stateString(h.s.State())
	case "online", "offline":
		s.SetOnline(now, c.Name == "online")
	case "change":
		s.LocalChange(now)
	case "block":
		h.s.Block()
		return h.next()
	case "resume":
		s.Resume(now)
	case "auto":
		s.SetAuto(now, c.Arg("on", "true") == "true")
	case "start":
		return "started " + string(h.start(c))
	case "finish":
		return decisionString(s.Finished(now, h.err(c), c.Arg("changed", "") == "true")) + "; " + h.next()
	case "sync":
		trig := h.start(c)
		h.now = now.Add(h.dur(c, "for", 0))
		d := s.Finished(h.now, h.err(c), c.Arg("changed", "") == "true")
		return fmt.Sprintf("%s: %s; %s", trig, decisionString(d), h.next())
	case "advance":
		return h.advance(c)
	case "next":
	case "due":
		if trig, ok := s.Due(now); ok {
			return "due " + string(trig)
		}
		return "not due"
	case "state":
		return stateString(s.State())
	case "classify":
		o, after := core.Classify(h.err(c))
		if after > 0 {
			return fmt.Sprintf("%s after %s", o, after)
		}
		return o.String()
	case "delays":
		p := core.RetryPolicy{Base: h.dur(c, "base", 0), Max: h.dur(c, "max", 0)}
		r, err := strconv.ParseFloat(c.Arg("r", "1"), 64)
		require.NoError(h.t, err)
		n, _ := strconv.Atoi(c.Arg("n", "10"))
		var out []string
		for i := 1; i <= n; i++ {
			out = append(out, fmt.Sprintf("%d:%s", i, p.Delay(i, r)))
		}
		return strings.Join(out, " ")
	default:
		return "unknown command " + c.Name
	}
	return h.next()
}

func (h *schedHarness) start(c *scenario.Command) core.Trigger {
	trig, ok := h.s.Due(h.now)
	if !ok {
		trig = core.TriggerManual
	}
	trig = core.Trigger(c.Arg("trigger", string(trig)))
	h.s.Started(h.now, trig)
	return trig
}

// advance runs the automatic syncs due until to (at most n=N of them), each
// ending with the same error, one line each, then prints what is next.
func (h *schedHarness) advance(c *scenario.Command) string {
	to := schedEpoch.Add(h.dur(c, "to", 0))
	n, err := strconv.Atoi(c.Arg("n", "50"))
	require.NoError(h.t, err)
	var out []string
	for range n {
		at, trig, ok := h.s.Next()
		if !ok || at.After(to) {
			break
		}
		h.now = schedMaxTime(h.now, at)
		got, due := h.s.Due(h.now)
		require.True(h.t, due, "line %d: Next is %s but Due says no", c.Line, at)
		require.Equal(h.t, trig, got)
		h.s.Started(h.now, trig)
		d := h.s.Finished(h.now, h.err(c), c.Arg("changed", "") == "true")
		out = append(out, fmt.Sprintf("%s %s: %s", schedOffset(h.now), trig, decisionString(d)))
	}
	if len(out) < n {
		h.now = schedMaxTime(h.now, to)
	}
	return strings.Join(append(out, h.next()), "\n")
}

func (h *schedHarness) next() string {
	at, trig, ok := h.s.Next()
	if !ok {
		return "next none"
	}
	return fmt.Sprintf("next %s (%s)", schedOffset(at), trig)
}

// err builds the error of err=..., see TestScheduleScenarios.
func (h *schedHarness) err(c *scenario.Command) error {
	name, ok := c.Args["err"]
	if !ok {
		return nil
	}
	var err error
	switch name {
	case "network":
		err = &dc.Error{Code: dc.ENETWORK, Message: "fetch failed"}
	case "timeout":
		err = &dc.Error{Code: dc.ETIMEOUT, Message: "too slow"}
	case "canceled":
		err = context.Canceled
	case "deadline":
		err = context.DeadlineExceeded
	case "plain":
		err = errors.New("boom")
	default:
		status, convErr := strconv.Atoi(name)
		if convErr != nil {
			err = &dc.Error{Code: name, Message: "local"}
			break
		}
		codes := map[int]string{400: dc.EINVALID, 401: dc.EUNAUTHORIZED, 403: dc.EFORBIDDEN, 408: dc.ETIMEOUT,
			413: dc.ETOOLARGE, 426: dc.EVERSION, 429: dc.ERATELIMIT}
		code, ok := codes[status]
		if !ok {
			code = dc.ESTORE
		}
		code = c.Arg("code", code)
		err = &dc.Error{Code: code, Message: "http", Status: status}
	}
	var e *dc.Error
	if errors.As(err, &e) {
		e.RetryAfter = h.dur(c, "retry-after", 0)
	}
	if c.Arg("wrap", "") == "true" {
		err = fmt.Errorf("push batch: %w", err)
	}
	return err
}

func schedOffset(at time.Time) string {
	if at.IsZero() {
		return "none"
	}
	return "+" + at.Sub(schedEpoch).String()
}

func schedMaxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func decisionString(d core.Decision) string {
	parts := []string{d.Outcome.String()}
	if d.Attempt > 0 {
		parts = append(parts, fmt.Sprintf("attempt=%d", d.Attempt))
	}
	if d.Retries > 0 {
		parts = append(parts, fmt.Sprintf("retries=%d", d.Retries))
	}
	if !d.RetryAt.IsZero() {
		parts = append(parts, "at "+schedOffset(d.RetryAt))
	}
	if d.GaveUp {
		parts = append(parts, "gave-up")
	}
	return strings.Join(parts, " ")
}

func stateString(st core.State) string {
	var parts []string
	flag := func(on bool, yes, no string) {
		if on {
			parts = append(parts, yes)
		} else if no != "" {
			parts = append(parts, no)
		}
	}
	flag(st.Online, "online", "offline")
	flag(st.Auto, "auto", "manual-only")
	flag(st.Running, "running", "")
	flag(st.AuthBlocked, "auth-blocked", "")
	flag(st.Stopped, "stopped", "")
	parts = append(parts, fmt.Sprintf("attempts=%d", st.Attempts))
	if st.NextTrigger != "" {
		parts = append(parts, fmt.Sprintf("next=%s(%s)", schedOffset(st.NextAt), st.NextTrigger))
	}
	parts = append(parts, fmt.Sprintf("poll=%s last=%s", st.PollInterval, st.LastOutcome))
	return strings.Join(parts, " ")
}

func TestRetryDelayBounds(t *testing.T) {
	for _, p := range []core.RetryPolicy{{}, {Base: time.Millisecond, Max: time.Hour}, {Base: time.Hour, Max: time.Second},
		{Base: 1, Max: time.Duration(1<<63 - 1)}} {
		max := p.Max
		if max == 0 {
			max = 5 * time.Minute
		}
		for attempt := -1; attempt <= 100; attempt++ {
			prev := time.Duration(0)
			for _, r := range []float64{0, 0.5, 0.999999, 1} {
				d := p.Delay(attempt, r)
				require.GreaterOrEqual(t, d, time.Duration(0), "%+v attempt %d r %v", p, attempt, r)
				require.LessOrEqual(t, d, max, "%+v attempt %d r %v", p, attempt, r)
				require.GreaterOrEqual(t, d, prev, "monotonic in r: %+v attempt %d r %v", p, attempt, r)
				prev = d
			}
		}
	}
	p := core.RetryPolicy{}
	assert.Equal(t, time.Duration(0), p.Delay(3, -1))
	assert.Equal(t, 4*time.Second, p.Delay(3, 7))
	assert.Equal(t, 5*time.Minute, p.Delay(1<<40, 1))
	assert.Equal(t, 2*time.Second, p.Delay(3, 0.5))
}

func TestDefaultSchedulePolicy(t *testing.T) {
	assert.Equal(t, core.SchedulePolicy{
		Retry:    core.RetryPolicy{Base: time.Second, Max: 5 * time.Minute, MaxAttempts: 10},
		Debounce: 2 * time.Second, MaxWait: 30 * time.Second, PollMin: 30 * time.Second, PollMax: 10 * time.Minute,
	}, core.DefaultSchedulePolicy())
	assert.Equal(t, "Outcome(7)", core.Outcome(7).String())
}

// TestScheduleProperties feeds seeded random inputs to a Scheduler and
// checks invariants after every step against a small model.
func TestScheduleProperties(t *testing.T) {
	p := core.DefaultSchedulePolicy()
	errs := []error{nil, nil, nil, &dc.Error{Code: dc.ENETWORK}, &dc.Error{Code: dc.ESTORE, Status: 503},
		&dc.Error{Code: dc.ERATELIMIT, Status: 429, RetryAfter: 45 * time.Second}, &dc.Error{Code: dc.EUNAUTHORIZED, Status: 401},
		&dc.Error{Code: dc.EINVALID, Status: 400}, errors.New("boom"), context.DeadlineExceeded}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 42))
		s := core.NewScheduler(core.SchedulePolicy{}, rng.Float64)
		now := schedEpoch
		var retryAt time.Time // the retry the model knows is pending
		for step := range 3000 {
			where := fmt.Sprintf("seed %d step %d", seed, step)
			st := s.State()
			now = now.Add(time.Duration(rng.Int64N(int64(90 * time.Second))))
			switch op := rng.IntN(12); {
			case op == 0:
				online := rng.IntN(3) > 0
				if online && !st.Online {
					retryAt = time.Time{}
				}
				s.SetOnline(now, online)
			case op == 1:
				s.SetAuto(now, rng.IntN(4) > 0)
			case op == 2:
				s.Resume(now)
				retryAt = time.Time{}
			case op <= 4:
				s.LocalChange(now)
				if at, _, ok := s.Next(); ok && retryAt.IsZero() && !st.Running {
					require.False(t, at.After(now.Add(p.Debounce)), where)
				}
			case op <= 6 && !st.Running:
				trig, ok := s.Due(now)
				if !ok {
					if rng.IntN(5) > 0 {
						continue
					}
					trig = core.TriggerManual
				}
				s.Started(now, trig)
				retryAt = time.Time{}
			case st.Running:
				err := errs[rng.IntN(len(errs))]
				_, after := core.Classify(err)
				d := s.Finished(now, err, rng.IntN(2) == 0)
				require.Equal(t, s.State().Attempts, d.Attempt, where)
				require.LessOrEqual(t, d.Attempt, p.Retry.MaxAttempts, where)
				require.Equal(t, d.Outcome == core.OutcomeRetry && d.Attempt == p.Retry.MaxAttempts, d.GaveUp, where)
				if d.Outcome == core.OutcomeRetry && !d.GaveUp {
					wait := d.RetryAt.Sub(now)
					require.GreaterOrEqual(t, wait, after, where)
					require.LessOrEqual(t, wait, max(after, p.Retry.Max), where)
					retryAt = d.RetryAt
				} else {
					require.True(t, d.RetryAt.IsZero(), where)
				}
				if d.Outcome == core.OutcomeOK {
					iv := s.State().PollInterval
					require.True(t, iv >= p.PollMin && iv <= p.PollMax, where)
					if at, _, ok := s.Next(); ok {
						require.False(t, at.After(now.Add(iv)), where)
					}
				}
			}
			st = s.State()
			at, trig, ok := s.Next()
			if !st.Online || !st.Auto || st.Running || st.AuthBlocked || st.Stopped {
				require.False(t, ok, "%s: %+v", where, st)
			}
			require.Equal(t, at, st.NextAt, where)
			require.Equal(t, trig, st.NextTrigger, where)
			if ok && !retryAt.IsZero() {
				require.Equal(t, retryAt, at, "%s: a pending retry comes first", where)
				require.Equal(t, core.TriggerRetry, trig, where)
			}
			dueTrig, due := s.Due(now)
			require.Equal(t, ok && !at.After(now), due, where)
			if due {
				require.Equal(t, trig, dueTrig, where)
			}
		}
	}
}
