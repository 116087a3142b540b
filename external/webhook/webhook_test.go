//go:build !js

package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/external"
	"github.com/datacollect/datacollect/external/webhook"
)

var ctx = context.Background()

// receiver is a toy registry behind the webhook protocol.
type receiver struct {
	secret string
	mu     sync.Mutex
	recs   []*external.Record // in change order; ExternalID is the index+1
	byGUID map[string]*external.Record
	status int // answer this status instead, when set
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	payload := body
	if r.Method == http.MethodGet {
		payload = []byte(r.URL.RawQuery)
	}
	if !webhook.Verify(rv.secret, payload, r.Header.Get(webhook.SignatureHeader)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if rv.status != 0 {
		w.WriteHeader(rv.status)
		return
	}
	switch r.Method {
	case http.MethodPost:
		var in struct{ Records []webhook.Outgoing }
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		type result struct {
			GUID       string          `json:"guid"`
			ExternalID string          `json:"externalId,omitempty"`
			Created    bool            `json:"created,omitempty"`
			Error      *external.Error `json:"error,omitempty"`
		}
		var out []result
		for _, o := range in.Records {
			if o.Data["bad"] == true {
				out = append(out, result{GUID: o.GUID, Error: &external.Error{Code: external.EVALIDATION, Message: "bad record"}})
				continue
			}
			rec, ok := rv.byGUID[o.GUID]
			if !ok {
				rec = &external.Record{GUID: o.GUID, ExternalID: strconv.Itoa(len(rv.byGUID) + 1)}
				rv.byGUID[o.GUID] = rec
			}
			rec.Type, rec.Data, rec.MemberExternalIDs = o.Type, o.Data, o.MemberExternalIDs
			rv.touch(rec)
			out = append(out, result{GUID: o.GUID, ExternalID: rec.ExternalID, Created: !ok})
		}
		json.NewEncoder(w).Encode(map[string]any{"results": out})
	case http.MethodGet:
		since, _ := strconv.Atoi(r.URL.Query().Get("since"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		var page []*external.Record
		next := since
		for i := since; i < len(rv.recs) && len(page) < limit; i++ {
			if rv.recs[i] != nil {
				page = append(page, rv.recs[i])
			}
			next = i + 1
		}
		json.NewEncoder(w).Encode(map[string]any{"records": page, "next": strconv.Itoa(next), "more": next < len(rv.recs)})
	}
}

// touch moves rec to the end of the change log.
func (rv *receiver) touch(rec *external.Record) {
	for i, r := range rv.recs {
		if r == rec {
			rv.recs[i] = nil
		}
	}
	rv.recs = append(rv.recs, rec)
}

func start(t *testing.T, edit func(*external.Config)) (*receiver, external.Adapter) {
	rv := &receiver{secret: "k3y", byGUID: map[string]*external.Record{}}
	hs := httptest.NewServer(rv)
	t.Cleanup(hs.Close)
	cfg := external.Config{Adapter: webhook.Name, URL: hs.URL + "/", Secret: "k3y", FieldMap: map[string]string{"givenName": "first_name"}}
	if edit != nil {
		edit(&cfg)
	}
	a, err := external.New(cfg.Adapter)
	require.NoError(t, err)
	require.NoError(t, a.Initialize(ctx, cfg))
	require.NoError(t, a.Authenticate(ctx))
	return rv, a
}

func TestPushAndPull(t *testing.T) {
	rv, a := start(t, nil)
	ents := []*dc.Entity{
		{GUID: "g1", Type: dc.Group, Data: map[string]any{"name": "H"}, MemberIDs: []string{"p1", "p2"}},
		{GUID: "p1", Type: dc.Individual, Data: map[string]any{"givenName": "Amina"}},
		{GUID: "bad", Type: dc.Individual, Data: map[string]any{"bad": true}},
		{GUID: "p2", Type: dc.Individual, Data: map[string]any{"givenName": "Juma"}},
	}
	known := map[string]*dc.Entity{"p1": {GUID: "p1", ExternalID: "77"}}
	res := a.Push(ctx, ents, func(g string) (*dc.Entity, bool) { e, ok := known[g]; return e, ok })
	require.Len(t, res, 4)
	for i, r := range res {
		assert.Equal(t, ents[i].GUID, r.GUID)
	}
	assert.Equal(t, external.EVALIDATION, res[2].Err.Code, "only the bad record fails")
	for _, i := range []int{0, 1, 3} {
		require.Nil(t, res[i].Err)
		assert.NotEmpty(t, res[i].ExternalID)
		assert.True(t, res[i].Created)
	}
	assert.Equal(t, map[string]any{"first_name": "Amina"}, rv.byGUID["p1"].Data, "FieldMap renames keys")
	assert.Equal(t, []string{"77", ""}, rv.byGUID["g1"].MemberExternalIDs)

	// Re-push updates.
	ents[1].Data["givenName"] = "Amina W."
	res = a.Push(ctx, ents[1:2], nil)
	require.Nil(t, res[0].Err)
	assert.False(t, res[0].Created)

	var got []*external.Record
	cursor := ""
	for {
		page, err := a.Pull(ctx, cursor, 2)
		require.NoError(t, err)
		got = append(got, page.Records...)
		cursor = page.Next
		if !page.More {
			break
		}
	}
	require.Len(t, got, 3)
	assert.Equal(t, "p1", got[2].GUID, "the edited record comes last")
	assert.Equal(t, map[string]any{"givenName": "Amina W."}, got[2].Data, "keys renamed back")
	page, err := a.Pull(ctx, cursor, 0)
	require.NoError(t, err)
	assert.Empty(t, page.Records)
	assert.Equal(t, cursor, page.Next)
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		status    int
		secret    string
		code      string
		retryable bool
	}{
		{0, "wrong", external.EAUTH, false},
		{http.StatusForbidden, "", external.EACCESS, false},
		{http.StatusUnprocessableEntity, "", external.EVALIDATION, false},
		{http.StatusServiceUnavailable, "", external.ENETWORK, true},
		{http.StatusTeapot, "", external.EREMOTE, false},
	} {
		t.Run(fmt.Sprint(tc.status, tc.secret), func(t *testing.T) {
			rv, a := start(t, func(c *external.Config) {
				if tc.secret != "" {
					c.Secret = tc.secret
				}
			})
			rv.status = tc.status
			res := a.Push(ctx, []*dc.Entity{{GUID: "p1", Type: dc.Individual}, {GUID: "p2", Type: dc.Individual}}, nil)
			for _, r := range res {
				require.NotNil(t, r.Err)
				assert.Equal(t, tc.code, r.Err.Code)
				assert.Equal(t, tc.retryable, r.Err.Retryable)
			}
			_, err := a.Pull(ctx, "", 10)
			assert.Equal(t, tc.code, external.Code(err))
		})
	}
	b := webhook.New()
	assert.Equal(t, external.ECONFIG, external.Code(b.Initialize(ctx, external.Config{URL: "http://x"})), "secret required")
	assert.Equal(t, external.ECONFIG, external.Code(b.Initialize(ctx, external.Config{URL: "x", Secret: "s"})))
}

func TestSignature(t *testing.T) {
	sig := webhook.Sign("key", []byte(`{"records":[]}`))
	assert.Regexp(t, `^sha256=[0-9a-f]{64}$`, sig)
	assert.True(t, webhook.Verify("key", []byte(`{"records":[]}`), sig))
	assert.False(t, webhook.Verify("other", []byte(`{"records":[]}`), sig))
	assert.False(t, webhook.Verify("key", []byte(`{"records":[1]}`), sig))
}

func TestMapping(t *testing.T) {
	_, a := start(t, nil)
	m, err := a.MapToExternal(&dc.Entity{GUID: "p1", Type: dc.Individual, ExternalID: "5", Data: map[string]any{"givenName": "A", "x": 1}})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"guid": "p1", "type": "individual", "externalId": "5", "data": map[string]any{"first_name": "A", "x": float64(1)}}, m)
	r, err := a.MapFromExternal(map[string]any{"externalId": "5", "guid": "p1", "data": map[string]any{"first_name": "A"}})
	require.NoError(t, err)
	assert.Equal(t, &external.Record{ExternalID: "5", GUID: "p1", Type: dc.Individual, Data: map[string]any{"givenName": "A"}}, r)
	_, err = a.MapFromExternal(map[string]any{"guid": "p1"})
	assert.Equal(t, external.EREMOTE, external.Code(err))
}
