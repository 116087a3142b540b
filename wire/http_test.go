package wire

import (
	"testing"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/stretchr/testify/require"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"30":                            30 * time.Second,
		" 2 ":                           2 * time.Second,
		"-5":                            0,
		"soon":                          0,
		"999999999":                     24 * time.Hour,
		"Wed, 25 Nov 2026 10:01:00 GMT": time.Minute,
		"Wed, 25 Nov 2026 09:59:00 GMT": 0,
	} {
		require.Equal(t, want, ParseRetryAfter(in, now), "%q", in)
	}
}

func TestErrorOf(t *testing.T) {
	now := time.Now()
	e := ErrorOf(503, "7", "text/html", []byte("<html>busy</html>"), now)
	require.Equal(t, &dc.Error{Code: dc.ENETWORK, Message: "HTTP 503", Status: 503, RetryAfter: 7 * time.Second}, e)
	body, err := Marshal(JSON, &dc.ErrorResponse{Code: dc.EUNAUTHORIZED, Message: "token expired"})
	require.NoError(t, err)
	e = ErrorOf(401, "", JSON, body, now)
	require.Equal(t, &dc.Error{Code: dc.EUNAUTHORIZED, Message: "token expired", Status: 401}, e)
}

func TestPullPath(t *testing.T) {
	require.Equal(t, "/api/v1/sync/pull?limit=50&since=7", PullPath(dc.PullQuery{Since: 7, Limit: 50}))
	require.Equal(t, "/api/v1/sync/pull?limit=50&logSince=3&since=7", PullPath(dc.PullQuery{Since: 7, Limit: 50, LogSince: 3}))
}
