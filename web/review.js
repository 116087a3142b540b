// Views that need a person's decision: sync status with failed events,
// conflicts (a dialog), potential duplicates.
import { h, displayName, kindOf, labelOf, valueText, fmtTime, errText, actionText } from './ui.js';

// ---- sync ----

export async function syncView(app, view) {
  const dc = app.dc;
  const [st, insp, session, conflicts] = await Promise.all([dc.status(), dc.inspect(), dc.session(), dc.conflicts()]);
  const row = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
  view.append(h('h1', {}, 'Sync'),
    h('section', { class: 'card', 'aria-labelledby': 'h-state' }, h('h2', { id: 'h-state' }, 'Status'),
      h('dl', { class: 'fields', id: 'sync-details' },
        row('Network', st.online ? 'Online' : 'Offline'),
        row('Account', session ? `${session.email} (until ${fmtTime(session.expiresAt)})` : h('a', { href: '#/account' }, 'Not logged in — log in to sync')),
        row('Last sync', st.lastSyncTime ? fmtTime(st.lastSyncTime) : 'Never'),
        row('Waiting to sync', String(st.pendingEvents)),
        row('Refused by the server', String(st.failedEvents)),
        row('Open conflicts', String(st.conflicts)),
        st.nextRetry ? row('Next retry', fmtTime(st.nextRetry)) : null,
        st.lastError ? row('Last error', errText(st.lastError)) : null,
        app.lastResult ? row('Last result', app.lastResult) : null),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => app.syncNow() }, 'Sync now'))));

  view.append(h('section', { class: 'card', 'aria-labelledby': 'h-conflicts' }, h('h2', { id: 'h-conflicts' }, 'Conflicts'),
    conflicts.length
      ? [h('p', {}, `${conflicts.length} ${conflicts.length === 1 ? 'field was' : 'fields were'} changed on this device and on another one.`),
        h('button', { type: 'button', onclick: () => app.openConflicts() }, 'Resolve conflicts')]
      : h('p', { class: 'muted' }, 'No open conflicts.')));

  const failed = insp.failedItems || [];
  const names = new Map();
  for (const f of failed) if (!names.has(f.entityGuid)) names.set(f.entityGuid, await dc.getEntity(f.entityGuid));
  view.append(h('section', { class: 'card', 'aria-labelledby': 'h-failed' }, h('h2', { id: 'h-failed' }, 'Refused by the server'),
    failed.length
      ? [h('p', {}, 'The server refused these changes. They stay on this device. Correct the record if needed, then retry.'),
        h('ul', { class: 'failed', id: 'failed-list' }, failed.map((f) => {
          const e = names.get(f.entityGuid);
          return h('li', {},
            h('div', {}, h('strong', {}, actionText(f.type)), ' · ', e ? h('a', { href: '#/entity/' + encodeURIComponent(f.entityGuid) }, kindOf(e) + ' ' + displayName(e)) : f.entityGuid,
              ' · ', h('time', { datetime: f.timestamp }, fmtTime(f.timestamp))),
            h('p', { class: 'error' }, 'Reason: ', `${f.code}: ${f.message}`),
            e && !e.deleted ? h('a', { class: 'button secondary small', href: `#/entity/${encodeURIComponent(f.entityGuid)}/edit` }, 'Fix ' + displayName(e)) : null);
        })),
        h('button', {
          type: 'button', onclick: () => app.run('Retrying…', async () => {
            const r = await dc.retryFailed();
            app.toast(`${r.requeued} ${r.requeued === 1 ? 'change' : 'changes'} queued again`);
            await app.syncNow();
          }),
        }, 'Retry refused changes')]
      : h('p', { class: 'muted' }, 'Nothing was refused.')));
}

// ---- conflicts ----

// conflictDialog shows the open conflicts, each field's two values side by
// side, and resolves those the person decided.
export async function conflictDialog(app) {
  const dc = app.dc;
  const open = await dc.conflicts();
  document.getElementById('conflict-dialog')?.remove();
  const ents = new Map();
  for (const c of open) if (!ents.has(c.entityGuid)) ents.set(c.entityGuid, await dc.getEntity(c.entityGuid));
  const show = (c, v) => (c.field === 'deleted' ? (v ? 'Deleted' : 'Kept') : valueText(v));
  const items = open.map((c, i) => {
    const e = ents.get(c.entityGuid);
    const name = `c${i}`;
    const other = h('input', { type: 'text', name: name + '-value', 'aria-label': `Another value for ${labelOf(c.field)}`, value: '' });
    const choice = (value, label, checked) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name, value, checked }), label);
    other.addEventListener('focus', () => { other.closest('fieldset').querySelector('input[value=manual]').checked = true; });
    return h('fieldset', { class: 'conflict', dataset: { id: c.id } },
      h('legend', {}, `${e ? kindOf(e) + ' ' + displayName(e) : c.entityGuid}: ${labelOf(c.field)}`),
      h('div', { class: 'sides' },
        h('div', { class: 'side' }, h('span', { class: 'side-label' }, 'This device'), h('span', { class: 'val' }, show(c, c.localValue))),
        h('div', { class: 'side' }, h('span', { class: 'side-label' }, 'Other device'), h('span', { class: 'val' }, show(c, c.remoteValue)))),
      h('p', { class: 'muted small' }, `Now in force: ${show(c, c.value)}`),
      h('div', { class: 'choices', role: 'radiogroup', 'aria-label': `Which ${labelOf(c.field)} to keep` },
        choice('local', `Keep this device's: ${show(c, c.localValue)}`),
        choice('remote', `Keep the other device's: ${show(c, c.remoteValue)}`),
        c.field === 'deleted' ? null : h('div', { class: 'choice other' }, choice('manual', 'Another value:'), other),
        choice('', 'Decide later', true)));
  });
  const form = h('form', { method: 'dialog' },
    h('h2', { id: 'conflict-title' }, 'Resolve conflicts'),
    open.length ? h('p', {}, 'These fields were changed on this device and on another one before they synced. Choose the value to keep.')
      : h('p', {}, 'No open conflicts.'),
    items,
    h('p', { class: 'error', role: 'alert', id: 'conflict-error' }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => dlg.close() }, 'Close'),
      open.length ? h('button', { type: 'submit' }, 'Save decisions') : null));
  const dlg = h('dialog', { id: 'conflict-dialog', 'aria-labelledby': 'conflict-title' }, form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let done = 0;
    try {
      for (const [i, c] of open.entries()) {
        const fs = form.querySelector(`fieldset[data-id="${CSS.escape(c.id)}"]`);
        const strategy = fs.querySelector(`input[name=c${i}]:checked`)?.value;
        if (!strategy) continue;
        if (strategy === 'manual') {
          const value = fs.querySelector(`input[name=c${i}-value]`).value;
          await dc.resolveConflict(c.id, { strategy, value });
        } else {
          await dc.resolveConflict(c.id, { strategy });
        }
        done++;
      }
    } catch (err) {
      form.querySelector('#conflict-error').textContent = 'Could not save: ' + errText(err);
      return;
    }
    dlg.close();
    app.toast(done ? `${done} ${done === 1 ? 'conflict' : 'conflicts'} resolved` : 'Nothing decided');
    app.rerender();
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

// ---- duplicates ----

export async function duplicatesView(app, view) {
  const groups = await app.dc.duplicates({ limit: 50 });
  view.append(h('h1', {}, 'Possible duplicates'),
    h('p', { class: 'muted' }, 'Records that share a national ID. Merge them if they are the same, or keep both if they are different.'));
  if (!groups.length) {
    view.append(h('p', { class: 'empty' }, 'No possible duplicates.'));
    return;
  }
  for (const g of groups) {
    const [first, ...rest] = g.entities;
    const keys = [...new Set(g.entities.flatMap((e) => Object.keys(e.data)))].filter((k) => typeof g.entities[0].data[k] !== 'object');
    const table = h('table', { class: 'compare' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), g.entities.map((e, i) => h('th', { scope: 'col' },
        `Record ${i + 1}: `, h('a', { href: '#/entity/' + encodeURIComponent(e.guid) }, displayName(e)))))),
      h('tbody', {}, keys.map((k) => h('tr', {}, h('th', { scope: 'row' }, labelOf(k)), g.entities.map((e) => h('td', {}, valueText(e.data[k])))))));
    const decide = (keep, dup, action) => app.run('Saving…', async () => {
      await app.dc.submitForm({ type: 'resolve-duplicate', entityGuid: keep.guid, data: { duplicateGuid: dup.guid, action } });
      app.toast(action === 'merge' ? `Merged ${displayName(dup)} into ${displayName(keep)}` : `Kept ${displayName(keep)} and ${displayName(dup)} as different records`);
      app.rerender();
    });
    view.append(h('section', { class: 'card duplicate', 'aria-label': `Possible duplicates: ${g.entities.map(displayName).join(', ')}` },
      h('h2', {}, g.entities.map(displayName).join(' / ')),
      h('div', { class: 'scroll' }, table),
      rest.map((dup, i) => h('div', { class: 'actions wrap' },
        h('button', { type: 'button', onclick: () => decide(first, dup, 'merge') }, `Merge record ${i + 2} into record 1`),
        h('button', { type: 'button', class: 'secondary', onclick: () => decide(dup, first, 'merge') }, `Merge record 1 into record ${i + 2}`),
        h('button', { type: 'button', class: 'secondary', onclick: () => decide(first, dup, 'keep') }, rest.length > 1 ? `Records 1 and ${i + 2} differ: keep both` : 'Different: keep both')))));
  }
}
