//go:build js && wasm

package syncjs

import (
	"context"
	"syscall/js"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
)

// conflictHooks is the app's conflict resolver and the conflicts already
// announced (each gets one `conflict` event per page).
type conflictHooks struct {
	resolver js.Value // a function, or undefined
	seen     map[string]bool
	busy     bool
	again    bool
}

func (a *API) conflicts(args []js.Value) func() (any, error) {
	return a.call(func(ctx context.Context, p parts) (any, error) { return p.c.Conflicts(ctx) })(args)
}

func (a *API) resolveConflict(args []js.Value) func() (any, error) {
	id := arg(args, 0)
	if id.Type() != js.TypeString || id.String() == "" {
		return failed(dc.Errorf(dc.EINVALID, "resolveConflict needs a conflict id"))
	}
	var r client.Resolution
	if err := fromJS(arg(args, 1), &r, "resolution"); err != nil {
		return failed(err)
	}
	cid := id.String()
	return func() (any, error) {
		p, err := a.parts()
		if err != nil {
			return nil, err
		}
		ev, err := p.c.ResolveConflict(context.Background(), cid, r)
		if err != nil {
			return nil, err
		}
		return rawJSON(appendEventJSON(nil, ev)), nil
	}
}

func (a *API) setConflictResolver(args []js.Value) func() (any, error) {
	fn := arg(args, 0)
	if fn.Type() != js.TypeFunction && !fn.IsNull() && !fn.IsUndefined() {
		return failed(dc.Errorf(dc.EINVALID, "setConflictResolver needs a function (or null)"))
	}
	a.mu.Lock()
	a.hooks.resolver = fn
	a.mu.Unlock()
	go a.announceConflicts()
	return func() (any, error) { return js.Undefined(), nil }
}

// announceConflicts emits a `conflict` event for each open conflict not
// announced yet and, if the app set a resolver, asks it: an answer
// {strategy: 'local'|'remote'|'manual', value} is recorded as a
// resolve-conflict event (synced like any other); no answer leaves the
// conflict open. Calls during a run make it run again.
func (a *API) announceConflicts() {
	a.mu.Lock()
	if a.hooks.busy {
		a.hooks.again = true
		a.mu.Unlock()
		return
	}
	a.hooks.busy = true
	a.mu.Unlock()
	for {
		a.announceOnce()
		a.mu.Lock()
		if !a.hooks.again {
			a.hooks.busy = false
			a.mu.Unlock()
			return
		}
		a.hooks.again = false
		a.mu.Unlock()
	}
}

func (a *API) announceOnce() {
	p, err := a.parts()
	if err != nil {
		return
	}
	ctx := context.Background()
	open, err := p.c.Conflicts(ctx)
	if err != nil {
		return
	}
	for _, c := range open {
		a.mu.Lock()
		if a.hooks.seen == nil {
			a.hooks.seen = map[string]bool{}
		}
		seen := a.hooks.seen[c.ID]
		a.hooks.seen[c.ID] = true
		resolver := a.hooks.resolver
		a.mu.Unlock()
		view, err := toJS(c)
		if err != nil {
			continue
		}
		if !seen {
			a.events.emit("conflict", func() js.Value { return view })
		}
		if resolver.Type() != js.TypeFunction {
			continue
		}
		var answer js.Value
		if err := catch(func() { answer = resolver.Invoke(view) }); err != nil {
			continue
		}
		if answer.Type() == js.TypeObject && answer.Get("then").Type() == js.TypeFunction {
			if answer, err = await(ctx, answer); err != nil {
				continue
			}
		}
		if answer.Type() != js.TypeObject {
			continue // no answer: the conflict stays open
		}
		var r client.Resolution
		if err := fromJS(answer, &r, "resolution"); err != nil {
			continue
		}
		_, _ = p.c.ResolveConflict(ctx, c.ID, r)
	}
}
