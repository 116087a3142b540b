package client_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/core"
	"github.com/datacollect/datacollect/store"
)

// auditServer is an in-memory sync server whose events each have one
// audit entry, chained as the real server chains them (hashed false: as
// a server older than the chain). tamper, if set, alters the entries of
// the pages it serves.
type auditServer struct {
	mu     sync.Mutex
	events []*dc.Event
	audit  []*dc.AuditEntry // audit[i]: of events[i]
	hashed bool
	tamper func(a *dc.AuditEntry)
	drop   string // the guid of an entry left out of pages
}

// add appends n events (creating individuals) with their audit entries.
func (s *auditServer) add(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		seq := int64(len(s.events) + 1)
		ev := &dc.Event{GUID: fmt.Sprintf("e%d", seq), EntityGUID: fmt.Sprintf("p%d", seq), Type: "create-individual",
			UserID: "u2", Timestamp: "2026-11-25T10:00:00.000Z", Seq: seq, SyncLevel: dc.Synced,
			Data: map[string]any{"name": fmt.Sprintf("n%d", seq)}}
		a := &dc.AuditEntry{GUID: fmt.Sprintf("a%d", seq), Timestamp: ev.Timestamp, UserID: ev.UserID,
			Action: "create", EventGUID: ev.GUID, EntityGUID: ev.EntityGUID,
			Changes: []dc.FieldChange{{Field: "name", New: ev.Data["name"]}}}
		if s.hashed {
			prev := ""
			if len(s.audit) > 0 {
				prev = s.audit[len(s.audit)-1].Hash
			}
			a.Hash = core.AuditHash(prev, a, seq)
		}
		s.events, s.audit = append(s.events, ev), append(s.audit, a)
	}
}

func (s *auditServer) head() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.audit[len(s.audit)-1].Hash
}

func (s *auditServer) Push(context.Context, *dc.PushRequest) (*dc.PushResponse, error) {
	return &dc.PushResponse{}, nil
}

func (s *auditServer) Pull(_ context.Context, q dc.PullQuery) (*dc.PullResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &dc.PullResponse{NextCursor: q.Since}
	for i := min(int(q.Since), len(s.events)); i < len(s.events); i++ {
		if len(resp.Events) == q.Limit {
			resp.HasMore = true
			break
		}
		resp.Events = append(resp.Events, s.events[i].Clone())
		resp.NextCursor = s.events[i].Seq
		if s.audit[i].GUID == s.drop {
			continue
		}
		a := *s.audit[i]
		if s.tamper != nil {
			s.tamper(&a)
		}
		resp.Audit = append(resp.Audit, &a)
	}
	return resp, nil
}

func (s *auditServer) Plan(_ context.Context, since int64) (*dc.PlanResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &dc.PlanResponse{Pull: max(len(s.events)-int(since), 0), Cursor: since}, nil
}

func (s *auditServer) Report(context.Context, *dc.DeviceReport) error { return nil }

func auditSync(c *client.Client, s *auditServer) error {
	_, err := c.Sync(bg, s, client.SyncOptions{PageSize: 3})
	return err
}

// TestAuditChainOnDevice: the device's audit head follows the server's
// chain page by page; a page with an altered entry is refused and changes
// nothing; the device goes on once the server serves the true log.
func TestAuditChainOnDevice(t *testing.T) {
	s := &auditServer{hashed: true}
	s.add(7)
	c := client.New(store.NewMemory(), client.Options{UserID: "u1"})
	head, err := c.AuditHead(bg)
	require.NoError(t, err)
	assert.Empty(t, head)
	require.NoError(t, auditSync(c, s))
	head, err = c.AuditHead(bg)
	require.NoError(t, err)
	assert.Equal(t, s.head(), head)

	s.add(4)
	for name, tamper := range map[string]func(a *dc.AuditEntry){
		"user":   func(a *dc.AuditEntry) { a.UserID = "mallory" },
		"change": func(a *dc.AuditEntry) { a.Changes[0].New = "forged" },
		"hash":   func(a *dc.AuditEntry) { a.Hash = core.AuditHash("", a, 9) },
	} {
		t.Run(name, func(t *testing.T) {
			s.tamper = func(a *dc.AuditEntry) {
				if a.GUID == "a9" {
					a.Changes = append([]dc.FieldChange(nil), a.Changes...)
					tamper(a)
				}
			}
			defer func() { s.tamper = nil }()
			err := auditSync(c, s)
			require.Error(t, err)
			assert.Equal(t, dc.EINTERNAL, dc.ErrorCode(err))
			assert.Contains(t, err.Error(), "audit chain broken at entry a9 (event seq 9): the server's audit log was altered")
			// The page of events 8..10 was not applied.
			cursor, err := c.Cursor(bg)
			require.NoError(t, err)
			assert.Equal(t, int64(7), cursor)
			got, err := c.AuditHead(bg)
			require.NoError(t, err)
			assert.Equal(t, head, got)
			e, err := c.Entity(bg, "p8")
			require.NoError(t, err)
			assert.Nil(t, e)
		})
	}
	// A deleted entry breaks the next one.
	s.drop = "a8"
	err = auditSync(c, s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "audit chain broken at entry a9 (event seq 9)")
	s.drop = ""

	require.NoError(t, auditSync(c, s))
	got, err := c.AuditHead(bg)
	require.NoError(t, err)
	assert.Equal(t, s.head(), got)
	e, err := c.Entity(bg, "p11")
	require.NoError(t, err)
	assert.NotNil(t, e)
}

// TestAuditChainOlderServer: entries without hashes are not checked.
func TestAuditChainOlderServer(t *testing.T) {
	s := &auditServer{}
	s.add(5)
	c := client.New(store.NewMemory(), client.Options{UserID: "u1"})
	require.NoError(t, auditSync(c, s))
	head, err := c.AuditHead(bg)
	require.NoError(t, err)
	assert.Empty(t, head)
	cursor, err := c.Cursor(bg)
	require.NoError(t, err)
	assert.Equal(t, int64(5), cursor)
}

// TestAuditChainUpgradedServer: a device that pulled before the server
// chained its log trusts the first chained entry, then checks the rest.
func TestAuditChainUpgradedServer(t *testing.T) {
	s := &auditServer{}
	s.add(4)
	c := client.New(store.NewMemory(), client.Options{UserID: "u1"})
	require.NoError(t, auditSync(c, s))
	s.hashed = true
	s.add(5) // events 5..9, chained from a5
	s.tamper = func(a *dc.AuditEntry) {
		if a.GUID == "a7" {
			a.UserID = "mallory"
		}
	}
	err := auditSync(c, s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "entry a7")
	s.tamper = nil
	require.NoError(t, auditSync(c, s))
	head, err := c.AuditHead(bg)
	require.NoError(t, err)
	assert.Equal(t, s.head(), head)
}
