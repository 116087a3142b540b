package server

import (
	"net/http"
	"unicode/utf8"

	dc "github.com/datacollect/datacollect"
)

// Bounds of a telemetry report.
const (
	// maxReportBytes bounds a report's body.
	maxReportBytes = 16 << 10
	// maxReportError bounds the characters of a report's LastError.
	maxReportError = 1000
)

// handleTelemetry stores a device's report (POST /api/v1/sync/telemetry,
// body dc.DeviceReport) as the device's last one, adds it to the device
// metrics, and answers 204. An invalid report is EINVALID and stores
// nothing.
func (s *Server) handleTelemetry(w http.ResponseWriter, r *http.Request) {
	c := claimsOf(r)
	var rep dc.DeviceReport
	n, err := readBody(r, min(s.cfg.MaxBodyBytes, maxReportBytes), &rep)
	s.metrics.bytesIn.WithLabelValues("telemetry").Add(float64(n))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := validReport(&rep); err != nil {
		s.writeError(w, r, err)
		return
	}
	d := &dc.Device{AppID: c.App, DeviceID: clientID(r), UserID: c.Subject, ReportedAt: dc.FormatTime(s.now()), Report: rep}
	if err := s.store.PutDevice(r.Context(), d); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.device.observeReport(&rep)
	w.WriteHeader(http.StatusNoContent)
}

// validReport returns EINVALID for a report with a negative count, a
// LastSyncTime that is not RFC 3339, or a LastError that is too long.
func validReport(r *dc.DeviceReport) error {
	m := r.Metrics
	counts := []struct {
		name string
		n    int64
	}{
		{"pending", int64(r.Pending)},
		{"failed", int64(r.Failed)},
		{"conflicts", int64(r.Conflicts)},
		{"cursor", r.Cursor},
		{"metrics.syncDuration", m.SyncDuration},
		{"metrics.entitiesSynced", int64(m.EntitiesSynced)},
		{"metrics.bytesTransferred", m.BytesTransferred},
		{"metrics.conflictsResolved", int64(m.ConflictsResolved)},
		{"metrics.errorsEncountered", int64(m.ErrorsEncountered)},
		{"metrics.retryAttempts", int64(m.RetryAttempts)},
	}
	for _, c := range counts {
		if c.n < 0 {
			return dc.Errorf(dc.EINVALID, "telemetry: %s is negative (%d)", c.name, c.n)
		}
	}
	if r.LastSyncTime != "" {
		if _, err := dc.ParseTime(r.LastSyncTime); err != nil {
			return dc.Errorf(dc.EINVALID, "telemetry: lastSyncTime %q is not an RFC 3339 time", truncate(r.LastSyncTime, 40))
		}
	}
	if !utf8.ValidString(r.LastError) {
		return dc.Errorf(dc.EINVALID, "telemetry: lastError is not UTF-8")
	}
	if n := utf8.RuneCountInString(r.LastError); n > maxReportError {
		return dc.Errorf(dc.EINVALID, "telemetry: lastError has %d characters; at most %d", n, maxReportError)
	}
	return nil
}

// truncate returns s cut to at most n bytes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
