package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a goroutine-safe output buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunProxiesAndReportsItsFaults(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello "+r.URL.Path)
	}))
	defer up.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"-target", up.URL, "-rates", "error-500=1", "-faults", "0"}, &out, &errOut)
	}()
	re := regexp.MustCompile(`listening on (http://\S+)`)
	var base string
	require.Eventually(t, func() bool {
		m := re.FindStringSubmatch(out.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}, 5*time.Second, 10*time.Millisecond)

	resp, err := http.Get(base + "/index.html")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "hello /index.html", string(b), "static requests pass")
	resp, err = http.Get(base + "/api/v1/sync/pull")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 500, resp.StatusCode)

	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "error-500=1")
}

func TestRunRefusesBadFlags(t *testing.T) {
	var out, errOut syncBuffer
	assert.Error(t, Run(context.Background(), []string{"-target", "http://x", "-faults", "2"}, &out, &errOut))
	assert.Error(t, Run(context.Background(), []string{"-target", "http://x", "-rates", "bogus=1"}, &out, &errOut))
	assert.Error(t, Run(context.Background(), []string{"-target", ""}, &out, &errOut))
}
