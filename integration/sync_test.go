//go:build !js

package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
)

func household(name string, members ...string) client.Form {
	ms := make([]any, len(members))
	for i, m := range members {
		ms[i] = map[string]any{"name": m}
	}
	return client.Form{Type: "create-group", Data: map[string]any{"name": name, "members": ms}}
}

// TestTwoDevicesConverge: A records households offline and syncs; B syncs
// and holds identical entities; B edits, both sync, both agree with each
// other and with the server.
func TestTwoDevicesConverge(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a, b := e.device("app1"), e.device("app1")
		for i := 0; i < 20; i++ {
			a.submit(t, household(fmt.Sprintf("HH %d", i), "Ana", "Ben"))
		}
		res := a.sync(t)
		assert.Equal(t, 20, res.Pushed)
		assert.Equal(t, 20, res.Pulled, "A pulls its own events back, confirming them")
		assert.Positive(t, res.BytesSent)
		assert.Positive(t, res.BytesReceived)
		local, err := a.ListEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
		require.NoError(t, err)
		assert.Empty(t, local, "every event is SYNCED once the server stored it")

		res = b.sync(t)
		assert.Equal(t, 0, res.Pushed)
		assert.Equal(t, 20, res.Pulled)
		ea, eb := a.entities(t), b.entities(t)
		assert.Len(t, ea, 60)
		assert.Equal(t, ea, eb)
		assert.Equal(t, ea, e.serverEntities(t, "app1", ea))

		// B edits a household and a member; A edits another member.
		var hh *dc.Entity
		for _, en := range eb {
			if en.Type == dc.Group {
				hh = en
				break
			}
		}
		b.submit(t, client.Form{Type: "update-group", EntityGUID: hh.GUID, Data: map[string]any{"village": "Kibera"}})
		b.submit(t, client.Form{Type: "update-individual", EntityGUID: hh.MemberIDs[0], Data: map[string]any{"age": 41}})
		a.submit(t, client.Form{Type: "update-individual", EntityGUID: hh.MemberIDs[1], Data: map[string]any{"age": 12}})
		b.sync(t)
		a.sync(t)
		b.sync(t)
		ea, eb = a.entities(t), b.entities(t)
		assert.Equal(t, ea, eb)
		assert.Equal(t, ea, e.serverEntities(t, "app1", ea))
		assert.Equal(t, "Kibera", ea[hh.GUID].Data["village"])
		assert.Equal(t, 41.0, ea[hh.MemberIDs[0]].Data["age"])
		assert.Equal(t, 12.0, ea[hh.MemberIDs[1]].Data["age"])
		for _, en := range ea {
			assert.Equal(t, dc.Synced, en.SyncLevel)
		}
	})
}

// TestConcurrentEditsOfOneEntity: both devices edit the same person
// offline; the order of record (server sequence) decides, field by field,
// and both devices end equal to the server.
func TestConcurrentEditsOfOneEntity(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a, b := e.device("app1"), e.device("app1")
		p := a.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Ana", "phone": "1"}})
		a.sync(t)
		b.sync(t)
		a.submit(t, client.Form{Type: "update-individual", EntityGUID: p.EntityGUID, Data: map[string]any{"phone": "A"}})
		b.submit(t, client.Form{Type: "update-individual", EntityGUID: p.EntityGUID, Data: map[string]any{"phone": "B", "village": "V"}})
		ra := a.sync(t) // A's edit gets the lower sequence number
		assert.Zero(t, ra.Conflicts)
		rb := b.sync(t) // B's edit was based on the version before A's
		assert.Equal(t, 1, rb.Conflicts)
		a.sync(t)
		ea, eb := a.entities(t), b.entities(t)
		assert.Equal(t, ea, eb)
		assert.Equal(t, "B", ea[p.EntityGUID].Data["phone"], "the later write in the order of record wins the field")
		assert.Equal(t, "V", ea[p.EntityGUID].Data["village"])
		assert.Equal(t, ea, e.serverEntities(t, "app1", ea))
	})
}

// TestPendingEventsRebase: B pulls remote events while it has pending
// edits of the same entity: its view is the confirmed state with its own
// edits on top, and it converges after pushing.
func TestPendingEventsRebase(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a, b := e.device("app1"), e.device("app1")
		p := a.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Ana"}})
		a.sync(t)
		b.sync(t)
		a.submit(t, client.Form{Type: "update-individual", EntityGUID: p.EntityGUID, Data: map[string]any{"a": 1, "shared": "from A"}})
		a.sync(t)
		b.submit(t, client.Form{Type: "update-individual", EntityGUID: p.EntityGUID, Data: map[string]any{"b": 2, "shared": "from B"}})
		_, err := b.Pull(ctx, b.tr, client.SyncOptions{})
		require.NoError(t, err)
		rec, err := b.EntityRecord(ctx, p.EntityGUID)
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"name": "Ana", "a": 1.0, "shared": "from A"}, rec.Confirmed.Data)
		assert.Equal(t, map[string]any{"name": "Ana", "a": 1.0, "b": 2.0, "shared": "from B"}, rec.Current.Data, "pending edit rebased on top")
		assert.Len(t, rec.Pending, 1)
		assert.Equal(t, dc.Local, rec.Current.SyncLevel)
		b.sync(t)
		a.sync(t)
		assert.Equal(t, a.entities(t), b.entities(t))
		rec, err = b.EntityRecord(ctx, p.EntityGUID)
		require.NoError(t, err)
		assert.Empty(t, rec.Pending)
		assert.Equal(t, rec.Confirmed, rec.Current)
	})
}

// TestResentBatchIsIdempotent: the same push twice stores nothing twice.
func TestResentBatchIsIdempotent(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a := e.device("app1")
		a.submit(t, household("HH", "Ana", "Ben"))
		a.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"name": "Cy"}})
		evs, err := a.ListEvents(ctx, dc.EventQuery{})
		require.NoError(t, err)
		first, err := a.tr.Push(ctx, &dc.PushRequest{Events: evs})
		require.NoError(t, err)
		again, err := a.tr.Push(ctx, &dc.PushRequest{Events: evs})
		require.NoError(t, err)
		for i := range evs {
			assert.Equal(t, dc.PushAccepted, first.Results[i].Status)
			assert.Equal(t, dc.PushDuplicate, again.Results[i].Status)
			assert.Equal(t, first.Results[i].Seq, again.Results[i].Seq)
		}
		n, err := e.store.CountAfter(ctx, "app1", 0)
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		// A batch holding the same event twice stores it once.
		dup, err := a.tr.Push(ctx, &dc.PushRequest{Events: []*dc.Event{evs[0], evs[0]}})
		require.NoError(t, err)
		assert.Equal(t, dc.PushDuplicate, dup.Results[1].Status)
	})
}

// lossy wraps a transport and loses the answers of the first n pushes
// after the server processed them.
type lossy struct {
	client.Transport
	mu   sync.Mutex
	lose int
}

func (l *lossy) Push(c context.Context, req *dc.PushRequest) (*dc.PushResponse, error) {
	resp, err := l.Transport.Push(c, req)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && l.lose > 0 {
		l.lose--
		return nil, dc.Errorf(dc.ENETWORK, "connection reset (answer lost)")
	}
	return resp, err
}

// TestLostResponse: the server stores a batch but the answer is lost; the
// events stay LOCAL, are pushed again, and end SYNCED exactly once.
func TestLostResponse(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a := e.device("app1")
		for i := 0; i < 5; i++ {
			a.submit(t, client.Form{Type: "create-individual", Data: map[string]any{"n": i}})
		}
		tr := &lossy{Transport: a.tr, lose: 1}
		// One request: the lost answer is that of every event.
		_, err := a.Sync(ctx, tr, client.SyncOptions{Concurrency: 1})
		require.Error(t, err)
		assert.Equal(t, dc.ENETWORK, dc.ErrorCode(err))
		local, err := a.ListEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
		require.NoError(t, err)
		assert.Len(t, local, 5, "not acknowledged: still LOCAL")
		res, err := a.Sync(ctx, tr, client.SyncOptions{})
		require.NoError(t, err)
		assert.Equal(t, 5, res.Pushed)
		n, err := e.store.CountAfter(ctx, "app1", 0)
		require.NoError(t, err)
		assert.Equal(t, 5, n, "nothing duplicated on the server")
		local, err = a.ListEvents(ctx, dc.EventQuery{SyncLevel: dc.Local})
		require.NoError(t, err)
		assert.Empty(t, local)
		all, err := a.ListEvents(ctx, dc.EventQuery{})
		require.NoError(t, err)
		assert.Len(t, all, 5, "nothing duplicated on the device")
	})
}

// TestInterleavingDevices: several devices record and sync concurrently
// while another keeps pulling; everyone ends with every event exactly once
// and the same entities (the late-commit bug would make a puller skip some).
func TestInterleavingDevices(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		const writers, each = 4, 30
		devs := make([]*device, writers)
		for i := range devs {
			devs[i] = e.device("app1")
		}
		puller := e.device("app1")
		var wg sync.WaitGroup
		errs := make(chan error, writers*each+100)
		for i, d := range devs {
			wg.Add(1)
			go func(i int, d *device) {
				defer wg.Done()
				for j := 0; j < each; j++ {
					if _, err := d.SubmitForm(ctx, client.Form{Type: "create-individual", Data: map[string]any{"w": i, "j": j}}); err != nil {
						errs <- err
						return
					}
					if j%3 == 0 {
						if _, err := d.Sync(ctx, d.tr, client.SyncOptions{BatchSize: 2, Concurrency: 3}); err != nil {
							errs <- err
						}
					}
				}
				if _, err := d.Sync(ctx, d.tr, client.SyncOptions{}); err != nil {
					errs <- err
				}
			}(i, d)
		}
		stop := make(chan struct{})
		pulled := make(chan error, 1)
		go func() {
			for {
				select {
				case <-stop:
					pulled <- nil
					return
				default:
				}
				if _, err := puller.Pull(ctx, puller.tr, client.SyncOptions{PageSize: 7}); err != nil {
					pulled <- err
					return
				}
			}
		}()
		wg.Wait()
		close(stop)
		require.NoError(t, <-pulled)
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		puller.sync(t)
		for _, d := range devs {
			d.sync(t)
		}
		want := puller.entities(t)
		assert.Len(t, want, writers*each)
		for _, d := range devs {
			assert.Equal(t, want, d.entities(t))
		}
		evs, err := puller.ListEvents(ctx, dc.EventQuery{Confirmed: true})
		require.NoError(t, err)
		require.Len(t, evs, writers*each)
		for i, ev := range evs {
			assert.Equal(t, int64(i+1), ev.Seq, "gap-free, each exactly once")
		}
	})
}

// TestRejectedEventStaysVisible: an event the server refuses is marked
// failed with the server's reason, never dropped, and not pushed again.
func TestRejectedEventStaysVisible(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		a, b := e.device("app1"), e.device("app1")
		// Both register a person under the same guid (a form carried from
		// one device to the other); A's reaches the server first, so B's
		// creation is refused.
		a.submit(t, client.Form{Type: "create-individual", EntityGUID: "same", Data: map[string]any{"name": "From A"}})
		a.sync(t)
		mine := b.submit(t, client.Form{Type: "create-individual", EntityGUID: "same", Data: map[string]any{"name": "From B"}})
		res, err := b.Push(ctx, b.tr, client.SyncOptions{})
		require.NoError(t, err)
		assert.Equal(t, 1, res.Failed)
		evs, err := b.Store().Events(ctx, []string{mine.GUID})
		require.NoError(t, err)
		got := evs[mine.GUID]
		require.NotNil(t, got.Failure)
		assert.Equal(t, dc.EEXISTS, got.Failure.Code)
		assert.Equal(t, dc.Local, got.SyncLevel)
		// The refused creation no longer counts: B's entity is gone until
		// the pull brings A's.
		gone, err := b.Entity(ctx, "same")
		require.NoError(t, err)
		assert.Nil(t, gone)
		res = b.sync(t)
		assert.Zero(t, res.Pushed, "a failed event is not pushed again until retried")
		ent, err := b.Entity(ctx, "same")
		require.NoError(t, err)
		assert.Equal(t, "From A", ent.Data["name"])
		assert.Equal(t, a.entities(t)["same"], ent)
		failed, err := b.FailedEvents(ctx, 0)
		require.NoError(t, err)
		require.Len(t, failed, 1, "the refused event stays visible")
		assert.Equal(t, "From B", failed[0].Data["name"])
	})
}
