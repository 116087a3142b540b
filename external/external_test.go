package external_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/external"
)

func TestConfigRedactsSecret(t *testing.T) {
	cfg := external.Config{Adapter: "openspp", URL: "https://spp.example.org", Database: "prod", Login: "sync",
		Secret: "hunter2-very-secret", Options: map[string]string{"group_kind": "Family"}, PageSize: 50}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("adapter", "config", cfg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("adapter", "config", cfg)
	for _, s := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), fmt.Sprintf("%v %+v", &cfg, &cfg), cfg.String(), buf.String(),
	} {
		assert.NotContains(t, s, "hunter2")
		assert.Contains(t, s, "REDACTED")
		assert.Contains(t, s, "spp.example.org")
	}
	assert.Contains(t, buf.String(), `"login":"sync"`)
	assert.NotContains(t, external.Config{}.String(), "REDACTED", "an empty secret is shown empty")

	// JSON keeps the secret: configurations are stored and loaded as JSON.
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	var back external.Config
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, cfg, back)
	assert.Equal(t, "Family", cfg.Option("group_kind", "Household"))
	assert.Equal(t, "National ID", cfg.Option("id_type", "National ID"))
}

func TestError(t *testing.T) {
	e := &external.Error{Code: external.EVALIDATION, Remote: "odoo.exceptions.ValidationError", Message: "bad"}
	assert.Equal(t, "EVALIDATION: bad (odoo.exceptions.ValidationError)", e.Error())
	wrapped := fmt.Errorf("push p1: %w", e)
	assert.Equal(t, external.EVALIDATION, external.Code(wrapped))
	assert.Same(t, e, external.AsError(wrapped))
	assert.False(t, external.IsRetryable(wrapped))
	assert.True(t, external.IsRetryable(external.Errorf(external.ENETWORK, "timeout")))
	assert.True(t, external.IsRetryable(external.Errorf(external.EPENDING, "member")))
	assert.False(t, external.IsRetryable(external.Errorf(external.EAUTH, "no")))
	assert.Equal(t, external.EREMOTE, external.Code(errors.New("other")))
	assert.Equal(t, "", external.Code(nil))
	assert.Nil(t, external.AsError(nil))
}

type fake struct{ name string }

func (f *fake) Name() string                                             { return f.name }
func (f *fake) Initialize(context.Context, external.Config) error        { return nil }
func (f *fake) Authenticate(context.Context) error                       { return nil }
func (f *fake) MapToExternal(*dc.Entity) (map[string]any, error)         { return nil, nil }
func (f *fake) MapFromExternal(map[string]any) (*external.Record, error) { return nil, nil }
func (f *fake) Push(_ context.Context, es []*dc.Entity, _ external.Lookup) []external.PushResult {
	return make([]external.PushResult, len(es))
}
func (f *fake) Pull(context.Context, string, int) (*external.PullPage, error) {
	return &external.PullPage{}, nil
}

func TestRegistry(t *testing.T) {
	external.Register("test-fake", func() external.Adapter { return &fake{name: "test-fake"} })
	assert.Contains(t, external.Names(), "test-fake")
	a, err := external.New("test-fake")
	require.NoError(t, err)
	assert.Equal(t, "test-fake", a.Name())
	b, _ := external.New("test-fake")
	assert.NotSame(t, a, b, "each New is a new instance")

	_, err = external.New("nope")
	assert.Equal(t, external.ECONFIG, external.Code(err))
	assert.Panics(t, func() { external.Register("test-fake", func() external.Adapter { return &fake{} }) })
	assert.Panics(t, func() { external.Register("", func() external.Adapter { return &fake{} }) })
	assert.Panics(t, func() { external.Register("x", nil) })
}
