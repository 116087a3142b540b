package server

import (
	"net/url"
	"strings"
	"testing"

	dc "github.com/datacollect/datacollect"
)

func TestValidReport(t *testing.T) {
	ok := []dc.DeviceReport{
		{},
		{LastSyncTime: "2026-11-25T08:00:00Z", LastError: strings.Repeat("é", maxReportError)},
		{LastSyncTime: "2026-11-25T08:00:00.123456789+02:00", Pending: 1, Metrics: dc.SyncMetrics{SyncDuration: 5}},
	}
	for _, r := range ok {
		if err := validReport(&r); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
	bad := map[string]dc.DeviceReport{
		"failed":        {Failed: -1},
		"cursor":        {Cursor: -1},
		"syncDuration":  {Metrics: dc.SyncMetrics{SyncDuration: -1}},
		"lastSyncTime":  {LastSyncTime: "2026-11-25 08:00"},
		"lastError":     {LastError: strings.Repeat("x", maxReportError+1)},
		"not UTF-8":     {LastError: "\xff"},
		"retryAttempts": {Metrics: dc.SyncMetrics{RetryAttempts: -3}},
	}
	for want, r := range bad {
		err := validReport(&r)
		if dc.ErrorCode(err) != dc.EINVALID || !strings.Contains(dc.ErrorMessage(err), want) {
			t.Errorf("%s: got %v, want EINVALID naming %s", want, err, want)
		}
	}
}

func TestCursorParam(t *testing.T) {
	for v, want := range map[string]int64{"": 0, "0": 0, "42": 42} {
		n, err := cursorParam(url.Values{"since": {v}}, "since")
		if err != nil || n != want {
			t.Errorf("%q: got %d, %v; want %d", v, n, err, want)
		}
	}
	for _, v := range []string{"-1", "x", "1e3", "99999999999999999999"} {
		if _, err := cursorParam(url.Values{"since": {v}}, "since"); dc.ErrorCode(err) != dc.EINVALID {
			t.Errorf("%q: got %v, want EINVALID", v, err)
		}
	}
}
