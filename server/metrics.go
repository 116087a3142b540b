package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	dc "github.com/datacollect/datacollect"
)

// metrics are the server's Prometheus metrics, in a registry of its own so
// that several servers can live in one process (tests).
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.HistogramVec
	pushed    *prometheus.CounterVec
	pulled    prometheus.Counter
	errors    *prometheus.CounterVec
	logins    *prometheus.CounterVec
	bytesIn   *prometheus.CounterVec
	bytesOut  *prometheus.CounterVec
	pushBatch prometheus.Histogram

	// Sync operations (push and pull requests) as the server saw them.
	syncOps      *prometheus.CounterVec
	syncDuration *prometheus.HistogramVec
	syncLogFails prometheus.Counter
	// The devices' own view, summed over their telemetry reports.
	device deviceMetrics
	// External sync: runs by result, entities pushed and records pulled
	// by result ("ok" or the adapter's error code).
	externalRuns   *prometheus.CounterVec
	externalPushed *prometheus.CounterVec
	externalPulled *prometheus.CounterVec
}

// deviceMetrics sum the devices' telemetry reports, over all devices:
// per-device detail would be one series per device, so it is in the store
// (datacollect-server inspect) instead.
type deviceMetrics struct {
	reports   prometheus.Counter
	duration  prometheus.Histogram
	retries   prometheus.Counter
	errors    prometheus.Counter
	conflicts prometheus.Counter
	entities  prometheus.Counter
	bytes     prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "datacollect_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"route", "status"}),
		pushed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "datacollect_push_events_total", Help: "Pushed events by result status.",
		}, []string{"status"}),
		pulled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datacollect_pull_events_total", Help: "Events sent to pulling devices.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "datacollect_errors_total", Help: "Error answers by code.",
		}, []string{"code"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "datacollect_logins_total", Help: "Login attempts by result.",
		}, []string{"result"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "datacollect_sync_bytes_received_total", Help: "Request body bytes on the wire by route.",
		}, []string{"route"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "datacollect_sync_bytes_sent_total", Help: "Response body bytes on the wire by route.",
		}, []string{"route"}),
		pushBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "datacollect_push_batch_events", Help: "Events per push request.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
	}
	m.syncOps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "datacollect_sync_operations_total", Help: "Push and pull requests by operation and status (ok or error).",
	}, []string{"op", "status"})
	m.syncDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "datacollect_sync_operation_duration_seconds", Help: "Time the server took to handle a push or a pull.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	}, []string{"op"})
	m.syncLogFails = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "datacollect_sync_log_failures_total", Help: "Sync operations that could not be written to the sync log.",
	})
	m.device = deviceMetrics{
		reports: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datacollect_device_reports_total", Help: "Telemetry reports received from devices.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "datacollect_device_sync_duration_seconds", Help: "Duration of the devices' syncs, as they report it.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datacollect_device_sync_retries_total", Help: "Retry attempts the devices report.",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datacollect_device_sync_errors_total", Help: "Errors the devices report encountering while syncing.",
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datacollect_device_conflicts_resolved_total", Help: "Conflicts the devices report resolving.",
		}),
		entities: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datacollect_device_entities_synced_total", Help: "Entities the devices report syncing.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datacollect_device_bytes_transferred_total", Help: "Bytes the devices report transferring while syncing.",
		}),
	}
	m.externalRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "datacollect_external_runs_total", Help: "External sync runs by result (ok or error).",
	}, []string{"result"})
	m.externalPushed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "datacollect_external_pushed_total", Help: "Entities pushed to external systems by result (ok or the error code).",
	}, []string{"result"})
	m.externalPulled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "datacollect_external_pulled_total", Help: "Records pulled from external systems (ok), and failed pulls by error code.",
	}, []string{"result"})
	d := m.device
	m.reg.MustRegister(m.externalRuns, m.externalPushed, m.externalPulled,
		m.requests, m.pushed, m.pulled, m.errors, m.logins, m.bytesIn, m.bytesOut, m.pushBatch,
		m.syncOps, m.syncDuration, m.syncLogFails,
		d.reports, d.duration, d.retries, d.errors, d.conflicts, d.entities, d.bytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observeReport adds a device's telemetry report to the device metrics. A
// report of no sync (duration 0) adds no duration.
func (d deviceMetrics) observeReport(r *dc.DeviceReport) {
	d.reports.Inc()
	m := r.Metrics
	if m.SyncDuration > 0 {
		d.duration.Observe(float64(m.SyncDuration) / 1000)
	}
	d.retries.Add(float64(m.RetryAttempts))
	d.errors.Add(float64(m.ErrorsEncountered))
	d.conflicts.Add(float64(m.ConflictsResolved))
	d.entities.Add(float64(m.EntitiesSynced))
	d.bytes.Add(float64(m.BytesTransferred))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// instrument records each request's latency by route pattern and status.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "other"
		}
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Observe(time.Since(start).Seconds())
	})
}
