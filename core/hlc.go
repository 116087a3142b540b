package core

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	dc "github.com/datacollect/datacollect"
)

// HLC is a hybrid logical clock: a stamp follows the physical clock when it
// moves forward and a counter when it does not (several events in one
// millisecond, or a clock set back), and Observe moves it past any stamp
// seen from elsewhere, so an edit made after seeing another is stamped
// later. Stamps are "<13-digit Unix ms>.<5-digit counter>" and compare as
// strings. The zero HLC is ready to use; it is not safe for concurrent use.
type HLC struct {
	ms    int64
	count int
}

// maxCount is the largest counter; past it the stamp borrows the next
// millisecond.
const maxCount = 99999

// FormatHLC formats a stamp.
func FormatHLC(ms int64, count int) string {
	return fmt.Sprintf("%013d.%05d", ms, count)
}

// ParseHLC parses a stamp; ok is false for anything else.
func ParseHLC(s string) (ms int64, count int, ok bool) {
	a, b, found := strings.Cut(s, ".")
	if !found || len(a) != 13 || len(b) != 5 {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseInt(a, 10, 64)
	c, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || ms < 0 || c < 0 {
		return 0, 0, false
	}
	return ms, c, true
}

// Now returns a stamp for an event recorded at physical time ms (the
// device's server-corrected clock), later than every stamp returned or
// observed before.
func (h *HLC) Now(ms int64) string {
	if ms > h.ms {
		h.ms, h.count = ms, 0
	} else if h.count < maxCount {
		h.count++
	} else {
		h.ms, h.count = h.ms+1, 0
	}
	return FormatHLC(h.ms, h.count)
}

// Observe moves the clock past stamp s (ignored if malformed).
func (h *HLC) Observe(s string) {
	ms, c, ok := ParseHLC(s)
	if ok && (ms > h.ms || ms == h.ms && c > h.count) {
		h.ms, h.count = ms, c
	}
}

// Last returns the last stamp, "" for a new clock.
func (h *HLC) Last() string {
	if h.ms == 0 && h.count == 0 {
		return ""
	}
	return FormatHLC(h.ms, h.count)
}

// MaxClockSkew is how far ahead of the server's clock an event's stamp may
// be: the server bounds later stamps to its own time (see BoundHLC).
const MaxClockSkew = time.Minute

// BoundHLC returns the stamp the server stores for an event stamped s and
// received at now: s itself, unless s is missing, malformed or more than
// MaxClockSkew ahead of now; then now. So a device whose clock runs an hour
// or a year ahead cannot win every conflict.
func BoundHLC(s string, now time.Time) string {
	limit := now.Add(MaxClockSkew).UnixMilli()
	if ms, _, ok := ParseHLC(s); ok && ms <= limit {
		return s
	}
	return FormatHLC(now.UnixMilli(), 0)
}

// hlcOf returns an event's stamp; events without one (from before clocks,
// or from outside) are stamped by their timestamp.
func hlcOf(ev *dc.Event) string {
	if ev.HLC != "" {
		return ev.HLC
	}
	if t, err := dc.ParseTime(ev.Timestamp); err == nil {
		return FormatHLC(t.UnixMilli(), 0)
	}
	return FormatHLC(0, 0)
}
