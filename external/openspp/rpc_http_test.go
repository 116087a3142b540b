//go:build !js

package openspp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datacollect/datacollect/external"
)

func TestTransportFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		handler   http.HandlerFunc
		code      string
		retryable bool
	}{
		{"502", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }, external.ENETWORK, true},
		{"429", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }, external.ENETWORK, true},
		{"401", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }, external.EAUTH, false},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>login</html>")) }, external.EREMOTE, false},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
			}
		}, external.ENETWORK, true},
		{"false uid", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":false}`))
		}, external.EAUTH, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := httptest.NewServer(tc.handler)
			defer hs.Close()
			a := New()
			require.NoError(t, a.Initialize(context.Background(), external.Config{URL: hs.URL, Database: "db", Login: "u",
				Secret: "s3cret-value", Options: map[string]string{"timeout": "200ms"}}))
			err := a.Authenticate(context.Background())
			e := external.AsError(err)
			require.NotNil(t, e)
			assert.Equal(t, tc.code, e.Code, e.Error())
			assert.Equal(t, tc.retryable, e.Retryable)
			assert.NotContains(t, e.Error(), "s3cret-value")
		})
	}
}
