//go:build !js

package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/core"
)

// faultyTransport loses and duplicates messages at random: it drops a
// request before the server sees it, drops the answer after the server
// processed it, or delivers a push twice.
type faultyTransport struct {
	client.Transport
	mu   sync.Mutex
	rng  *rand.Rand
	rate float64 // probability of each fault; 0 turns them off
}

func (f *faultyTransport) roll() (drop, lose, twice bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rate == 0 {
		return
	}
	x := f.rng.Float64()
	return x < f.rate, x >= f.rate && x < 2*f.rate, x >= 2*f.rate && x < 3*f.rate
}

var errLost = dc.Errorf(dc.ENETWORK, "injected: connection reset")

func (f *faultyTransport) Push(ctx context.Context, req *dc.PushRequest) (*dc.PushResponse, error) {
	drop, lose, twice := f.roll()
	if drop {
		return nil, errLost
	}
	resp, err := f.Transport.Push(ctx, req)
	if err == nil && twice {
		resp, err = f.Transport.Push(ctx, req)
	}
	if err == nil && lose {
		return nil, errLost
	}
	return resp, err
}

func (f *faultyTransport) Pull(ctx context.Context, q dc.PullQuery) (*dc.PullResponse, error) {
	drop, lose, _ := f.roll()
	if drop {
		return nil, errLost
	}
	resp, err := f.Transport.Pull(ctx, q)
	if err == nil && lose {
		return nil, errLost
	}
	return resp, err
}

// replica is a device of the convergence test.
type replica struct {
	*device
	ft       *faultyTransport
	strategy string
}

// TestRandomisedConvergence: N devices record random concurrent edits of
// shared people and households (creates, field edits and removals, deletes,
// members added and removed, conflicts resolved by hand) under every
// conflict strategy, and sync at random moments with random batch and page
// sizes through a transport that drops requests, loses answers after the
// server processed them and delivers pushes twice. Then, with faults off,
// all sync until quiet. Every replica must hold exactly the server's
// entities (fields, members, tombstones, versions, open conflicts), every
// event recorded must be on the server exactly once and on every device.
// DATACOLLECT_SEED=n replays a run; DATACOLLECT_ROUNDS=n makes it longer.
func TestRandomisedConvergence(t *testing.T) {
	seed := uint64(20261125)
	if s, err := strconv.ParseUint(os.Getenv("DATACOLLECT_SEED"), 10, 64); err == nil {
		seed = s
	}
	rounds := 60
	if n, err := strconv.Atoi(os.Getenv("DATACOLLECT_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	backends(t, func(t *testing.T, e *env) {
		t.Logf("seed %d, %d rounds", seed, rounds)
		rng := rand.New(rand.NewPCG(seed, 7))
		strategies := []string{dc.StrategyMerge, dc.StrategyLWW, dc.StrategyManual, dc.StrategyMerge}
		var reps []*replica
		for i := range 4 {
			d := e.device("conv")
			ft := &faultyTransport{Transport: d.tr, rng: rand.New(rand.NewPCG(seed, uint64(i))), rate: 0.08}
			r := &replica{device: d, ft: ft, strategy: strategies[i]}
			require.NoError(t, d.SetConflictStrategy(r.strategy, map[string]string{"score": "max", "tags": "union"}))
			reps = append(reps, r)
		}
		recorded := map[string]bool{} // every event guid a device stored
		for round := range rounds {
			for _, r := range reps {
				for range rng.IntN(4) {
					if ev := r.randomEdit(t, rng); ev != nil {
						recorded[ev.GUID] = true
					}
				}
				if rng.IntN(3) == 0 {
					o := client.SyncOptions{BatchSize: 1 + rng.IntN(6), PageSize: 1 + rng.IntN(9), Concurrency: 1 + rng.IntN(3)}
					_, _ = r.Sync(ctx, r.ft, o) // faults make some fail: nothing may be lost
				}
			}
			e.clock.Advance(time.Duration(1+round%3) * time.Second)
		}
		// Faults off: sync until a full round moves nothing.
		for _, r := range reps {
			r.ft.rate = 0
		}
		for quiet, n := false, 0; !quiet; n++ {
			require.Less(t, n, 20, "the replicas never got quiet")
			quiet = true
			for _, r := range reps {
				res, err := r.Sync(ctx, r.ft, client.SyncOptions{})
				require.NoError(t, err)
				if res.Pushed+res.Pulled > 0 {
					quiet = false
				}
			}
		}

		// Every replica holds exactly the server's entities.
		server := map[string]*dc.Entity{}
		for i, r := range reps {
			recs, err := r.Store().ListEntities(ctx, dc.EntityQuery{})
			require.NoError(t, err)
			got := map[string]*dc.Entity{}
			for _, rec := range recs {
				if len(rec.Pending) > 0 {
					evs, _ := r.Store().Events(ctx, rec.Pending)
					for _, ev := range evs {
						t.Logf("pending %s %s seq=%d level=%s failure=%v data=%v", ev.GUID, ev.Type, ev.Seq, ev.SyncLevel, ev.Failure, ev.Data)
					}
				}
				require.Empty(t, rec.Pending, "replica %d: %s still has pending events", i, rec.GUID)
				if !assert.Equal(t, comparable(rec.Confirmed), comparable(rec.Current), "replica %d: %s", i, rec.GUID) {
					evs, _ := r.ListEvents(ctx, dc.EventQuery{EntityGUID: rec.GUID})
					for _, ev := range evs {
						t.Logf("event %s %s seq=%d level=%s failure=%v data=%v", ev.GUID, ev.Type, ev.Seq, ev.SyncLevel, ev.Failure, ev.Data)
					}
				}
				got[rec.GUID] = comparable(rec.Current)
				if _, ok := server[rec.GUID]; !ok {
					se, err := e.store.Entity(ctx, "conv", rec.GUID)
					require.NoError(t, err)
					server[rec.GUID] = comparable(se)
				}
			}
			for g := range server {
				require.Contains(t, got, g, "replica %d has every entity", i)
			}
			for g, want := range server {
				require.Equal(t, want, got[g], "replica %d, entity %s (seed %d)", i, g, seed)
			}
		}

		// Every event is on the server once and on every replica.
		onServer, err := e.store.CountAfter(ctx, "conv", 0)
		require.NoError(t, err)
		failed := 0
		for _, r := range reps {
			evs, err := r.ListEvents(ctx, dc.EventQuery{Failed: true})
			require.NoError(t, err)
			failed += len(evs)
		}
		assert.Equal(t, len(recorded)-failed, onServer, "recorded events, less those refused, are on the server once")
		for i, r := range reps {
			n, err := r.Store().CountEvents(ctx, dc.EventQuery{Confirmed: true})
			require.NoError(t, err)
			assert.Equal(t, onServer, n, "replica %d holds every confirmed event", i)
		}
		conflicts, open := 0, 0
		for _, se := range server {
			open += len(se.Conflicts)
		}
		audit, err := reps[0].AuditLog(ctx, dc.AuditQuery{})
		require.NoError(t, err)
		for _, a := range audit {
			if a.Action == core.AuditConflict {
				conflicts++
			}
		}
		t.Logf("%d entities, %d events, %d refused, %d conflicts resolved, %d left open", len(server), onServer, failed, conflicts, open)
		assert.Positive(t, conflicts, "the run made conflicts")
	})
}

// comparable is an entity without what legitimately differs between
// replicas (the sync level of its last event).
func comparable(e *dc.Entity) *dc.Entity {
	if e == nil {
		return nil
	}
	c := e.Clone()
	c.SyncLevel = ""
	if len(c.Data) == 0 {
		c.Data = nil
	}
	return c
}

// randomEdit records one random form, or nothing if it picked something
// impossible (an edit of a deleted entity, ...): such forms are refused
// locally and change nothing.
func (r *replica) randomEdit(t *testing.T, rng *rand.Rand) *dc.Event {
	recs, err := r.Store().ListEntities(ctx, dc.EntityQuery{})
	require.NoError(t, err)
	var live, groups []*dc.Entity
	for _, rec := range recs {
		if e := rec.Current; e != nil && !e.Deleted {
			live = append(live, e)
			if e.Type == dc.Group {
				groups = append(groups, e)
			}
		}
	}
	field := func() string { return []string{"name", "village", "phone", "score", "tags"}[rng.IntN(5)] }
	value := func(f string) any {
		switch {
		case rng.IntN(8) == 0:
			return nil
		case f == "score":
			return float64(rng.IntN(100))
		case f == "tags":
			return []any{fmt.Sprint("t", rng.IntN(4)), fmt.Sprint("t", rng.IntN(4))}
		}
		return fmt.Sprint(f, "-", rng.IntN(1000))
	}
	var f client.Form
	switch x := rng.IntN(20); {
	case x < 4 || len(live) == 0:
		f = client.Form{Type: core.CreateIndividual, Data: map[string]any{"name": value("name"), "village": "v"}}
		if f.Data["name"] == nil {
			f.Data["name"] = "nameless"
		}
	case x < 5:
		f = client.Form{Type: core.CreateGroup, Data: map[string]any{"name": "household",
			"members": []any{map[string]any{"name": "head"}}}}
	case x < 14:
		e := live[rng.IntN(len(live))]
		data := map[string]any{}
		for range 1 + rng.IntN(3) {
			k := field()
			data[k] = value(k)
		}
		typ := core.UpdateIndividual
		if e.Type == dc.Group {
			typ = core.UpdateGroup
		}
		f = client.Form{Type: typ, EntityGUID: e.GUID, Data: data}
	case x < 15:
		f = client.Form{Type: core.DeleteEntity, EntityGUID: live[rng.IntN(len(live))].GUID}
	case x < 17 && len(groups) > 0:
		g := groups[rng.IntN(len(groups))]
		f = client.Form{Type: core.AddMember, EntityGUID: g.GUID, Data: map[string]any{
			"members": []any{map[string]any{"name": value("name")}}}}
		if f.Data["members"].([]any)[0].(map[string]any)["name"] == nil {
			return nil
		}
	case x < 18 && len(groups) > 0:
		g := groups[rng.IntN(len(groups))]
		if len(g.MemberIDs) == 0 {
			return nil
		}
		f = client.Form{Type: core.RemoveMember, EntityGUID: g.GUID, Data: map[string]any{"memberId": g.MemberIDs[rng.IntN(len(g.MemberIDs))]}}
	default:
		// Settle an open conflict, keeping one side or the other.
		for _, e := range live {
			if len(e.Conflicts) > 0 {
				c := e.Conflicts[rng.IntN(len(e.Conflicts))]
				v := c.Current.Value
				if rng.IntN(2) == 0 {
					v = c.Incoming.Value
				}
				f = client.Form{Type: core.ResolveConflict, EntityGUID: e.GUID, Data: map[string]any{"conflictId": c.ID, "value": v}}
				break
			}
		}
		if f.Type == "" {
			return nil
		}
	}
	ev, err := r.SubmitForm(ctx, f)
	if err != nil {
		return nil // refused locally: nothing stored
	}
	return ev
}
