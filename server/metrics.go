package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	m.reg.MustRegister(m.requests, m.pushed, m.pulled, m.errors, m.logins, m.bytesIn, m.bytesOut, m.pushBatch,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
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
