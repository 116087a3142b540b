package server

import (
	"context"
	"sync"

	dc "github.com/datacollect/datacollect"
)

// logWriter appends sync-log entries with group commit: entries that arrive
// while a write is in progress go together in the next one, one
// transaction per app. Under load, a thousand pushes and pulls cost a
// handful of durable writes instead of a thousand, and pulls (reads)
// never wait for one.
type logWriter struct {
	store dc.ServerStore
	onErr func(app string, n int, err error)

	mu       sync.Mutex
	queue    map[string][]*logItem // by app
	flushing bool
	idle     *sync.Cond // signalled when a flush round ends with nothing queued
}

type logItem struct {
	entry *dc.AuditEntry
	done  chan error // nil: nobody waits
}

func newLogWriter(store dc.ServerStore, onErr func(app string, n int, err error)) *logWriter {
	w := &logWriter{store: store, onErr: onErr, queue: map[string][]*logItem{}}
	w.idle = sync.NewCond(&w.mu)
	return w
}

// append queues an entry of app. With wait set it returns once the entry is
// durably stored (or its write failed); without, at once.
func (w *logWriter) append(app string, a *dc.AuditEntry, wait bool) error {
	it := &logItem{entry: a}
	if wait {
		it.done = make(chan error, 1)
	}
	w.mu.Lock()
	w.queue[app] = append(w.queue[app], it)
	if !w.flushing {
		w.flushing = true
		go w.flush()
	}
	w.mu.Unlock()
	if !wait {
		return nil
	}
	return <-it.done
}

// flush writes the queued entries until none are left.
func (w *logWriter) flush() {
	for {
		w.mu.Lock()
		batch := w.queue
		if len(batch) == 0 {
			w.flushing = false
			w.idle.Broadcast()
			w.mu.Unlock()
			return
		}
		w.queue = map[string][]*logItem{}
		w.mu.Unlock()
		for app, items := range batch {
			entries := make([]*dc.AuditEntry, len(items))
			for i, it := range items {
				entries[i] = it.entry
			}
			ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
			err := w.store.AppendSyncLog(ctx, app, entries...)
			cancel()
			if err != nil {
				w.onErr(app, len(entries), err)
			}
			for _, it := range items {
				if it.done != nil {
					it.done <- err
				}
			}
		}
	}
}

// drain waits until every queued entry is written.
func (w *logWriter) drain() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.flushing {
		w.idle.Wait()
	}
}
