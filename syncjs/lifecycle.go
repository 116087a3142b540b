//go:build js && wasm

package syncjs

import (
	"context"
	"sync"
	"syscall/js"
	"time"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/client"
	"github.com/datacollect/datacollect/core"
)

// lifecycle connects a client.Syncer to the page: the browser's online and
// offline events, a Web Lock around each sync (tabs of one app take turns),
// a BroadcastChannel that tells the other tabs what changed, and the API's
// status, metrics, alert and auth events.
type lifecycle struct {
	api     *API
	c       *client.Client
	syncer  *client.Syncer
	channel js.Value // BroadcastChannel, or undefined
	onMsg   js.Func
	network map[string]js.Func // window's online and offline listeners
	unsub   func()

	mu          sync.Mutex
	statusBusy  bool
	statusDirty bool
	closed      bool
}

// lifecycleOptions are init()'s options about automatic syncing.
type lifecycleOptions struct {
	autoSync bool
	policy   core.SchedulePolicy
	sync     client.SyncOptions
}

func newLifecycle(a *API, c *client.Client, t client.Transport, appID, device string, o lifecycleOptions) *lifecycle {
	l := &lifecycle{api: a, c: c, network: map[string]js.Func{}}
	l.syncer = client.NewSyncer(c, t, client.SyncerOptions{
		Sync: o.sync, Policy: o.policy, DeviceID: device, Listener: l, Lock: webLock("datacollect-sync:" + appID),
	})
	if !o.autoSync {
		l.syncer.SetAuto(false)
	}
	if bc := js.Global().Get("BroadcastChannel"); bc.Truthy() {
		l.channel = bc.New("datacollect:" + appID)
		l.onMsg = js.FuncOf(func(_ js.Value, args []js.Value) any {
			l.fromOtherTab(arg(args, 0).Get("data"))
			return nil
		})
		l.channel.Set("onmessage", l.onMsg)
	}
	l.unsub = c.Subscribe(func(ch client.Change) { l.tellTabs("change", ch.Entities) })
	win := js.Global()
	if win.Get("addEventListener").Truthy() {
		for _, ev := range []string{"online", "offline"} {
			online := ev == "online"
			f := js.FuncOf(func(js.Value, []js.Value) any {
				go l.syncer.SetOnline(online)
				return nil
			})
			l.network[ev] = f
			win.Call("addEventListener", ev, f)
		}
	}
	go l.syncer.SetOnline(navigatorOnline())
	return l
}

func navigatorOnline() bool {
	n := js.Global().Get("navigator")
	return !n.Truthy() || n.Get("onLine").Type() != js.TypeBoolean || n.Get("onLine").Bool()
}

func (l *lifecycle) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.syncer.Close()
	l.unsub()
	if l.channel.Truthy() {
		l.channel.Call("close")
		l.onMsg.Release()
	}
	for ev, f := range l.network {
		js.Global().Call("removeEventListener", ev, f)
		f.Release()
	}
}

// webLock returns a lock function that holds the Web Lock name around fn,
// or runs fn directly where the browser has no navigator.locks.
func webLock(name string) func(ctx context.Context, fn func() error) error {
	return func(ctx context.Context, fn func() error) error {
		locks := js.Global().Get("navigator").Get("locks")
		if !locks.Truthy() {
			return fn()
		}
		var ferr error
		held := js.FuncOf(func(js.Value, []js.Value) any {
			p, resolve, _ := newPromise()
			go func() {
				ferr = fn()
				resolve.Invoke()
			}()
			return p
		})
		defer held.Release()
		if _, err := await(ctx, locks.Call("request", name, held)); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return dc.Errorf(dc.EINTERNAL, "sync lock: %v", err)
		}
		return ferr
	}
}

// tellTabs posts a message to the app's other tabs.
func (l *lifecycle) tellTabs(typ string, entities []*dc.Entity) {
	if !l.channel.Truthy() {
		return
	}
	msg := jsObject.New()
	msg.Set("type", typ)
	if len(entities) > 0 {
		guids := make([]any, len(entities))
		for i, e := range entities {
			guids[i] = e.GUID
		}
		msg.Set("guids", guids)
	}
	_ = catch(func() { l.channel.Call("postMessage", msg) })
}

// fromOtherTab handles another tab's message: its changes become this
// tab's change events (read from the shared database) and its syncs
// refresh the status.
func (l *lifecycle) fromOtherTab(msg js.Value) {
	if msg.Type() != js.TypeObject {
		return
	}
	switch msg.Get("type").String() {
	case "change":
		g := msg.Get("guids")
		if g.Type() != js.TypeObject {
			return
		}
		guids := make([]string, g.Length())
		for i := range guids {
			guids[i] = g.Index(i).String()
		}
		go func() {
			var ents []*dc.Entity
			for _, g := range guids {
				if e, err := l.c.Entity(context.Background(), g); err == nil && e != nil {
					ents = append(ents, e)
				}
			}
			if len(ents) == 0 {
				return
			}
			l.api.emitChange(ents)
			l.StatusChanged()
		}()
	case "status":
		l.StatusChanged()
	}
}

// StatusChanged implements client.SyncListener: it emits a status event,
// coalescing bursts (a status read runs at most once at a time).
func (l *lifecycle) StatusChanged() {
	if !l.api.events.listening("status") {
		return
	}
	l.mu.Lock()
	if l.statusBusy || l.closed {
		l.statusDirty = true
		l.mu.Unlock()
		return
	}
	l.statusBusy = true
	l.mu.Unlock()
	go func() {
		for {
			st, err := l.syncer.Status(context.Background())
			if err == nil {
				l.api.events.emit("status", func() js.Value { v, _ := toJS(st); return v })
			}
			l.mu.Lock()
			if !l.statusDirty || l.closed {
				l.statusBusy = false
				l.mu.Unlock()
				return
			}
			l.statusDirty = false
			l.mu.Unlock()
		}
	}()
}

// Synced implements client.SyncListener.
func (l *lifecycle) Synced(res client.SyncResult, m dc.SyncMetrics, err error) {
	l.api.events.emit("metrics", func() js.Value { v, _ := toJS(m); return v })
	l.api.events.emit("sync", func() js.Value {
		v, _ := toJS(map[string]any{"result": res, "metrics": m, "error": errorView(err)})
		return v
	})
	l.tellTabs("status", nil)
	go l.api.announceConflicts()
}

// Alert implements client.SyncListener.
func (l *lifecycle) Alert(a client.Alert) {
	l.api.events.emit("alert", func() js.Value { v, _ := toJS(a); return v })
}

// AuthRequired implements client.SyncListener.
func (l *lifecycle) AuthRequired(err error) {
	l.api.events.emit("auth", func() js.Value { v, _ := toJS(errorView(err)); return v })
}

func errorView(err error) any {
	if err == nil {
		return nil
	}
	return map[string]string{"code": dc.ErrorCode(err), "message": dc.ErrorMessage(err)}
}

// policyOf builds the scheduling policy from init()'s options.
func policyOf(o InitOptions) core.SchedulePolicy {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	return core.SchedulePolicy{
		Retry:    core.RetryPolicy{Base: ms(o.RetryBaseMs), Max: ms(o.RetryMaxMs), MaxAttempts: o.MaxRetries},
		Debounce: ms(o.DebounceMs), PollMin: ms(o.PollMinMs), PollMax: ms(o.PollMaxMs),
	}
}
