package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	dc "github.com/datacollect/datacollect"
)

// RetryPolicy is exponential backoff with full jitter. Zero fields take
// their defaults.
type RetryPolicy struct {
	Base        time.Duration // the cap of the first delay; default 1s
	Max         time.Duration // the cap of every delay; default 5m
	MaxAttempts int           // failed attempts in a row before giving up; default 10
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	p.Base, p.Max = orDefault(p.Base, time.Second), orDefault(p.Max, 5*time.Minute)
	p.MaxAttempts = orDefault(p.MaxAttempts, 10)
	return p
}

// orDefault returns v, or def when v is zero or negative.
func orDefault[T ~int | ~int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Delay returns the backoff before retry number attempt (1-based, values
// below 1 count as 1): r * min(Max, Base * 2^(attempt-1)), with r clamped
// to [0, 1]. It is never negative, never above Max and does not overflow
// for any attempt.
func (p RetryPolicy) Delay(attempt int, r float64) time.Duration {
	p = p.withDefaults()
	limit, shift := p.Max, max(attempt, 1)-1
	if shift < 63 && p.Base <= p.Max>>shift {
		limit = p.Base << shift // exact: Base * 2^shift <= Max
	}
	if !(r > 0) { // also NaN
		return 0
	}
	if f := r * float64(limit); f < float64(limit) { // else r >= 1 or rounding
		return min(time.Duration(f), limit)
	}
	return limit
}

// SchedulePolicy tunes a Scheduler. Zero fields take their defaults; see
// DefaultSchedulePolicy.
type SchedulePolicy struct {
	Retry    RetryPolicy
	Debounce time.Duration // delay after a local change before syncing; default 2s
	MaxWait  time.Duration // a stream of local changes still syncs within this; default 30s
	PollMin  time.Duration // idle poll interval after a sync that changed something; default 30s
	PollMax  time.Duration // the interval doubles after each sync that changed nothing, up to this; default 10m
}

// DefaultSchedulePolicy returns the policy with every default filled in.
func DefaultSchedulePolicy() SchedulePolicy { return SchedulePolicy{}.withDefaults() }

func (p SchedulePolicy) withDefaults() SchedulePolicy {
	p.Retry = p.Retry.withDefaults()
	p.Debounce, p.MaxWait = orDefault(p.Debounce, 2*time.Second), orDefault(p.MaxWait, 30*time.Second)
	p.PollMin = orDefault(p.PollMin, 30*time.Second)
	p.PollMax = max(orDefault(p.PollMax, 10*time.Minute), p.PollMin)
	return p
}

// Outcome classifies the result of a sync attempt.
type Outcome int

// The outcomes of a sync attempt, as Classify decides them.
const (
	OutcomeOK    Outcome = iota // success
	OutcomeRetry                // transient (network, timeout, 5xx, 408, 429): retry with backoff
	OutcomeAuth                 // 401 or EUNAUTHORIZED: stop until Resume (a new login)
	OutcomeFatal                // other 4xx and local failures: not retried automatically
)

var outcomeNames = [...]string{"ok", "retry", "auth", "fatal"}

// String returns "ok", "retry", "auth" or "fatal".
func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Classify maps the error of a sync attempt to an Outcome and, for
// OutcomeRetry only, the delay the server asked for (dc.Error.RetryAfter,
// never negative). First match wins: nil is OK; context.Canceled is Fatal
// and context.DeadlineExceeded Retry; an error that is not a *dc.Error (a
// failed fetch) is Retry; a *dc.Error with HTTP Status >= 500, 408 or 429 is
// Retry whatever its code, 401 is Auth, any other 4xx Fatal; else its code
// decides: ENETWORK, ETIMEOUT, ERATELIMIT are Retry, EUNAUTHORIZED is Auth,
// and the rest (local failures: ESTORE, EQUOTA, EINVALID, ECLOSED...) Fatal.
func Classify(err error) (Outcome, time.Duration) {
	var e *dc.Error
	switch {
	case err == nil:
		return OutcomeOK, 0
	case errors.Is(err, context.Canceled):
		return OutcomeFatal, 0
	case errors.Is(err, context.DeadlineExceeded):
		return OutcomeRetry, 0
	case !errors.As(err, &e):
		return OutcomeRetry, 0
	}
	after := max(e.RetryAfter, 0)
	switch s := e.Status; {
	case s >= 500, s == 408, s == 429:
		return OutcomeRetry, after
	case s == 401:
		return OutcomeAuth, 0
	case s >= 400:
		return OutcomeFatal, 0
	}
	switch e.Code {
	case dc.ENETWORK, dc.ETIMEOUT, dc.ERATELIMIT:
		return OutcomeRetry, after
	case dc.EUNAUTHORIZED:
		return OutcomeAuth, 0
	}
	return OutcomeFatal, 0
}

// Trigger says why a sync runs.
type Trigger string

// The reasons a sync runs.
const (
	TriggerManual Trigger = "manual" // the app called sync()
	TriggerLocal  Trigger = "local"  // debounced after local changes
	TriggerOnline Trigger = "online" // the network came back
	TriggerPoll   Trigger = "poll"   // idle polling
	TriggerRetry  Trigger = "retry"  // backoff after a failure
	TriggerResume Trigger = "resume" // a new login unblocked a 401
	TriggerStart  Trigger = "start"  // the first sync after the app starts online
)

// Decision reports what Scheduler.Finished concluded.
type Decision struct {
	Outcome Outcome
	Attempt int       // transient failures in a row so far (0 after success)
	Retries int       // on success: the transient failures that preceded it (the retryAttempts metric)
	RetryAt time.Time // when the automatic retry is due; zero if none
	GaveUp  bool      // MaxAttempts transient failures in a row: automatic retries stop
}

// State is a snapshot of a Scheduler for status() and inspect().
// Stopped means it gave up or failed fatally and waits for a new trigger;
// NextAt and NextTrigger are what Next returns (zero if nothing is due).
type State struct {
	Online, Auto, Running, AuthBlocked, Stopped bool
	Attempts                                    int // transient failures in a row
	NextAt                                      time.Time
	NextTrigger                                 Trigger
	PollInterval                                time.Duration
	LastOutcome                                 Outcome
}

// Scheduler decides when the sync engine runs: debounce after local changes,
// backoff after failures, smart polling when idle. It is a pure state
// machine: it reads no clock (methods take now, never the zero time) and
// draws randomness only from the function given to NewScheduler. It is not
// safe for concurrent use.
type Scheduler struct {
	p    SchedulePolicy
	rand func() float64

	online, auto, running, authBlocked, stopped, wasOnline bool

	attempts int
	last     Outcome
	nowAt    time.Time // an immediate sync (online, start, resume) is pending since then
	nowTrig  Trigger
	retryAt  time.Time // the backoff deadline
	localAt  time.Time // the debounce deadline of unsynced local changes
	firstAt  time.Time // the first local change since the last sync started (MaxWait)
	pollAt   time.Time // the next idle poll
	poll     time.Duration
	dirtyRun bool // a local change arrived while a sync was running
}

// NewScheduler returns a Scheduler with policy p (zero fields defaulted)
// that is offline with auto-sync on: the caller calls SetOnline at start.
// rand returns values in [0, 1) for the backoff jitter; nil means no jitter
// (every delay is its full cap).
func NewScheduler(p SchedulePolicy, rand func() float64) *Scheduler {
	if rand == nil {
		rand = func() float64 { return 1 }
	}
	return &Scheduler{p: p.withDefaults(), rand: rand, auto: true}
}

// SetAuto turns automatic syncing on or off. While off, Next schedules
// nothing, but manual syncs still run and are classified by Finished.
// Turning it back on makes an idle poll due at now.
func (s *Scheduler) SetAuto(now time.Time, on bool) {
	if on && !s.auto {
		s.pollAt = now
	}
	s.auto = on
}

// SetOnline reports the network state. While offline nothing is scheduled.
// Going from offline to online resets the attempts and Stopped (not
// AuthBlocked), drops a pending retry and makes a sync due at now: with
// TriggerStart the very first time, TriggerOnline after that.
func (s *Scheduler) SetOnline(now time.Time, online bool) {
	if online == s.online {
		return
	}
	s.online = online
	if !online {
		return
	}
	s.attempts, s.stopped, s.retryAt = 0, false, time.Time{}
	s.nowAt, s.nowTrig = now, TriggerOnline
	if !s.wasOnline {
		s.nowTrig, s.wasOnline = TriggerStart, true
	}
}

// LocalChange records a local change (trailing debounce): a sync becomes due
// at now+Debounce, but no later than MaxWait after the first change not yet
// synced, and never earlier than a pending retry (Next waits for RetryAt).
// It is a new trigger: it clears Stopped and then resets the attempts. While
// a sync is running the change is remembered, and Finished debounces it from
// the finish time if that sync succeeds or will be retried.
func (s *Scheduler) LocalChange(now time.Time) {
	if s.running {
		s.dirtyRun = true
		return
	}
	s.unstop()
	if s.firstAt.IsZero() {
		s.firstAt = now
	}
	s.localAt = minTime(now.Add(s.p.Debounce), s.firstAt.Add(s.p.MaxWait))
}

// Block reports that there is no session to sync with (nobody logged in
// yet): like a 401, nothing automatic happens until Resume.
func (s *Scheduler) Block() {
	s.authBlocked = true
	s.nowAt, s.nowTrig = time.Time{}, ""
}

// Resume reports a new login: it clears AuthBlocked, Stopped, the attempts
// and a pending retry, and makes a sync due at now (TriggerResume).
func (s *Scheduler) Resume(now time.Time) {
	s.authBlocked, s.stopped, s.attempts, s.retryAt = false, false, 0, time.Time{}
	s.nowAt, s.nowTrig = now, TriggerResume
}

// Started reports that a sync began, automatic or manual (t says why). The
// sync pushes every local change made so far, so it consumes every pending
// timer: immediate, debounce, retry and poll. A manual start while Stopped
// or AuthBlocked is allowed; Stopped is a new trigger and resets the
// attempts, AuthBlocked lasts until a sync succeeds or Resume.
func (s *Scheduler) Started(now time.Time, t Trigger) {
	s.running, s.dirtyRun = true, false
	s.unstop()
	var zero time.Time
	s.nowAt, s.retryAt, s.localAt, s.firstAt, s.pollAt = zero, zero, zero, zero, zero
}

// Finished reports the end of the sync Started began: its error (see
// Classify) and whether it pushed or pulled anything.
//   - OK: attempts reset (Decision.Retries says how many there were),
//     AuthBlocked and Stopped clear, and a poll is due after PollMin if
//     changed, else after twice the last interval (PollMin the first time)
//     up to PollMax.
//   - Retry: attempts+1. At MaxAttempts it gives up (GaveUp, Stopped, nothing
//     scheduled); else a retry is due at now + max(Retry-After,
//     Delay(attempts, rand())) and nothing is due before it, not even an
//     online or resume trigger that came during the sync (it reset attempts).
//   - Auth: AuthBlocked until Resume or a successful sync.
//   - Fatal: Stopped until a new trigger (LocalChange, going online, Resume,
//     a manual sync).
//
// A local change made during the sync is debounced from now after OK or a
// Retry that did not give up, and dropped otherwise.
func (s *Scheduler) Finished(now time.Time, err error, changed bool) Decision {
	out, after := Classify(err)
	d := Decision{Outcome: out}
	dirty := s.dirtyRun
	s.running, s.dirtyRun, s.last = false, false, out
	switch out {
	case OutcomeOK:
		d.Retries, s.attempts, s.authBlocked, s.stopped = s.attempts, 0, false, false
		if changed || s.poll == 0 {
			s.poll = s.p.PollMin
		} else {
			s.poll = min(2*s.poll, s.p.PollMax)
		}
		s.pollAt = now.Add(s.poll)
	case OutcomeRetry:
		s.attempts++
		s.nowAt = time.Time{}
		if s.attempts >= s.p.Retry.MaxAttempts {
			d.GaveUp, s.stopped, dirty = true, true, false
			break
		}
		s.retryAt = now.Add(max(after, s.p.Retry.Delay(s.attempts, s.rand())))
		d.RetryAt = s.retryAt
	case OutcomeAuth:
		s.authBlocked, dirty = true, false
	default:
		s.stopped, dirty = true, false
	}
	if dirty {
		s.LocalChange(now)
	}
	d.Attempt = s.attempts
	return d
}

// Next returns the next automatic sync: a pending immediate sync (online,
// start, resume) if any, since it is due already and covers every overdue
// timer; else the pending retry, which holds back debounce and polling;
// else the earlier of the debounce deadline and the idle poll (the debounce
// on a tie). ok is false when offline, auto-sync is off, a sync is running,
// AuthBlocked or Stopped. Callers arm a timer for at (which may be in the
// past) and call Due when it fires.
func (s *Scheduler) Next() (at time.Time, t Trigger, ok bool) {
	if !s.online || !s.auto || s.running || s.authBlocked || s.stopped {
		return time.Time{}, "", false
	}
	switch {
	case !s.nowAt.IsZero():
		return s.nowAt, s.nowTrig, true
	case !s.retryAt.IsZero():
		return s.retryAt, TriggerRetry, true
	case s.localAt.IsZero() && s.pollAt.IsZero():
		return time.Time{}, "", false
	case s.pollAt.IsZero() || !s.localAt.IsZero() && !s.pollAt.Before(s.localAt):
		return s.localAt, TriggerLocal, true
	}
	return s.pollAt, TriggerPoll, true
}

// Due reports whether an automatic sync should start at now, and why: Next
// is ok and its time is not after now.
func (s *Scheduler) Due(now time.Time) (Trigger, bool) {
	at, t, ok := s.Next()
	if !ok || at.After(now) {
		return "", false
	}
	return t, true
}

// State returns a snapshot; NextAt and NextTrigger are what Next returns.
func (s *Scheduler) State() State {
	at, t, _ := s.Next()
	return State{
		Online: s.online, Auto: s.auto, Running: s.running, AuthBlocked: s.authBlocked, Stopped: s.stopped,
		Attempts: s.attempts, NextAt: at, NextTrigger: t, PollInterval: s.poll, LastOutcome: s.last,
	}
}

// unstop handles a new trigger: after giving up or a fatal error, the
// attempts start again from 0.
func (s *Scheduler) unstop() {
	if s.stopped {
		s.stopped, s.attempts = false, 0
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
