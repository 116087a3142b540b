package wire

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	dc "github.com/datacollect/datacollect"
)

// The sync API's paths, shared by the server and both transports.
const (
	PathLogin     = "/api/v1/auth/login"
	PathRenew     = "/api/v1/auth/renew"
	PathRefresh   = "/api/v1/auth/refresh"
	PathLogout    = "/api/v1/auth/logout"
	PathPush      = "/api/v1/sync/push"
	PathPull      = "/api/v1/sync/pull"
	PathPlan      = "/api/v1/sync/plan"
	PathTelemetry = "/api/v1/sync/telemetry"
)

// PullPath returns the path and query of a pull request.
func PullPath(q dc.PullQuery) string {
	v := url.Values{"since": {strconv.FormatInt(q.Since, 10)}, "limit": {strconv.Itoa(q.Limit)}}
	if q.LogSince > 0 {
		v.Set("logSince", strconv.FormatInt(q.LogSince, 10))
	}
	return PathPull + "?" + v.Encode()
}

// PlanPath returns the path and query of a plan request.
func PlanPath(since int64) string {
	return PathPlan + "?since=" + strconv.FormatInt(since, 10)
}

// ErrorOf turns a non-2xx answer into a *dc.Error carrying the HTTP status
// and the delay asked by Retry-After, decoding the ErrorResponse body when
// there is one (a proxy's HTML error page gets a code from the status).
func ErrorOf(status int, retryAfter, contentType string, body []byte, now time.Time) *dc.Error {
	e := &dc.Error{Code: CodeOfStatus(status), Message: "HTTP " + strconv.Itoa(status), Status: status,
		RetryAfter: ParseRetryAfter(retryAfter, now)}
	var r dc.ErrorResponse
	if err := Unmarshal(contentType, body, &r); err == nil && r.Code != "" {
		e.Code, e.Message = r.Code, r.Message
	}
	return e
}

// ParseRetryAfter reads an HTTP Retry-After value: delay seconds or an HTTP
// date. It returns 0 for an absent, malformed or past value.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
