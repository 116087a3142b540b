// Views of the records: the list with search, registration of people and
// households, a record's detail (fields, members, households, history), edit.
import { h, field, GENDERS, LABELS, labelOf, displayName, kindOf, valueText, fmtTime, actionText, userText, SYNC_LEVELS, confirmDialog } from './ui.js';

const PERSON_FIELDS = ['givenName', 'familyName', 'birthdate', 'gender', 'nationalId', 'phone'];
const GROUP_FIELDS = ['name', 'village', 'phone'];
const TYPES = { birthdate: 'date', phone: 'tel' };

// formData turns a form (or fieldset) into {field: value}, leaving out empty fields.
function formData(root, names) {
  const out = {};
  for (const n of names) {
    const el = root.querySelector(`[name="${n}"]`);
    const v = el ? el.value.trim() : '';
    if (v !== '') out[n] = v;
  }
  return out;
}

function personFields(prefix = '', values = {}) {
  return PERSON_FIELDS.map((f) => field({
    label: prefix + LABELS[f], name: f, type: TYPES[f] || 'text', value: values[f] ?? '',
    options: f === 'gender' ? GENDERS : undefined, required: f === 'givenName',
    autocomplete: f === 'phone' ? 'tel' : 'off',
  }));
}

function kindLabel(e) {
  // "Person: Ada Lovelace", the kind in a quieter colour.
  return [h('span', { class: 'kind kind-' + e.type }, kindOf(e) + ': '), displayName(e)];
}

function syncBadge(e) {
  if (e.syncLevel === 'SYNCED') return null;
  return h('span', { class: 'badge badge-local' }, SYNC_LEVELS[e.syncLevel] || e.syncLevel);
}

// ---- list ----

export async function listView(app, view, params) {
  const all = (await app.dc.listEntities()).filter((e) => !e.deleted);
  // Read the search after the wait: the person may have typed meanwhile
  // (into the view this one replaces), and draw() keeps it in the hash.
  const live = new URLSearchParams(location.hash.split('?')[1] || '');
  const q = live.get('q') ?? params.get('q') ?? '';
  const type = live.get('type') ?? params.get('type') ?? '';
  view.append(h('h1', {}, 'Records'));
  if (all.length === 0) {
    view.append(h('p', { class: 'empty' }, 'No records on this device yet. Register the first person below, ',
      h('a', { href: '#/new/household' }, 'register a household'), ', or ', h('a', { href: '#/account' }, 'log in'),
      ' and sync to receive your team\'s records. Optional: protect this device with a passphrase in ', h('a', { href: '#/account' }, 'Account'), '.'));
    view.append(h('section', { class: 'card' }, h('h2', {}, 'Register an individual'), individualForm(app)));
    return;
  }
  const groupsOf = new Map();
  for (const g of all) if (g.type === 'group') for (const m of g.memberIds || []) groupsOf.set(m, g);
  const byGuid = new Map(all.map((e) => [e.guid, e]));

  const search = h('input', { id: 'search', type: 'search', name: 'q', value: q, autocomplete: 'off', placeholder: 'Name, national ID, phone or record ID' });
  const typeSel = h('select', { id: 'type-filter', name: 'type' },
    [['', 'All'], ['individual', 'People'], ['group', 'Households']].map(([v, t]) => h('option', { value: v, selected: v === type }, t)));
  const list = h('ul', { class: 'records', id: 'records' });
  const count = h('p', { class: 'muted', id: 'count', role: 'status', 'aria-live': 'polite' });
  const draw = () => {
    const terms = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const shown = all.filter((e) => (!typeSel.value || e.type === typeSel.value) && terms.every((t) => haystack(e).includes(t)));
    list.replaceChildren(...shown.map((e) => recordRow(e, byGuid, groupsOf)));
    count.textContent = shown.length === all.length ? `${all.length} records` : `${shown.length} of ${all.length} records`;
    const u = new URLSearchParams();
    if (search.value) u.set('q', search.value);
    if (typeSel.value) u.set('type', typeSel.value);
    history.replaceState(null, '', '#/' + (u.toString() ? '?' + u : ''));
  };
  search.addEventListener('input', draw);
  typeSel.addEventListener('change', draw);
  view.append(
    h('form', { class: 'search', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field grow' }, h('label', { for: 'search' }, 'Search'), search),
      h('div', { class: 'field' }, h('label', { for: 'type-filter' }, 'Type'), typeSel)),
    count, list);
  draw();
}

function haystack(e) {
  const d = e.data || {};
  return [displayName(e), e.guid, e.externalId, d.nationalId, d.phone, d.givenName, d.familyName, d.village]
    .filter(Boolean).join(' ').toLowerCase();
}

function recordRow(e, byGuid, groupsOf) {
  const d = e.data;
  const sub = [];
  if (e.type === 'group') {
    const names = (e.memberIds || []).map((id) => byGuid.get(id)).filter(Boolean).map(displayName);
    sub.push(names.length ? 'Members: ' + names.join(', ') : 'No members');
  } else {
    if (d.nationalId) sub.push('ID ' + d.nationalId);
    if (d.birthdate) sub.push('born ' + d.birthdate);
    const g = groupsOf.get(e.guid);
    if (g) sub.push('in ' + displayName(g));
  }
  return h('li', { dataset: { guid: e.guid } },
    h('a', { href: '#/entity/' + encodeURIComponent(e.guid), class: 'record' },
      h('span', { class: 'title' }, kindLabel(e)),
      h('span', { class: 'sub' }, sub.join(' · ')),
      syncBadge(e)));
}

// ---- registration ----

function individualForm(app) {
  const form = h('form', { id: 'individual-form', novalidate: false },
    personFields(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save individual')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = formData(form, PERSON_FIELDS);
    await app.run('Saving…', async () => {
      const e = await app.dc.submitForm({ type: 'create-individual', data });
      app.toast(`Saved ${displayName({ data })}`);
      app.go('#/entity/' + encodeURIComponent(e.entityGuid));
    });
  });
  return form;
}

export function newIndividualView(app, view) {
  view.append(h('h1', {}, 'Register an individual'), h('section', { class: 'card' }, individualForm(app)));
  view.querySelector('input').focus();
}

function memberFieldset(n, onRemove) {
  const fs = h('fieldset', { class: 'member' },
    h('legend', {}, 'Member ' + n),
    personFields(),
    h('button', { type: 'button', class: 'secondary small', onclick: () => onRemove(fs) }, `Remove member ${n}`));
  return fs;
}

export function newHouseholdView(app, view) {
  const members = h('div', { id: 'members' });
  const renumber = () => members.querySelectorAll('fieldset.member').forEach((fs, i) => {
    fs.querySelector('legend').textContent = 'Member ' + (i + 1);
    fs.querySelector('button').textContent = 'Remove member ' + (i + 1);
  });
  const remove = (fs) => { fs.remove(); renumber(); addBtn.focus(); };
  const add = () => {
    const fs = memberFieldset(members.children.length + 1, remove);
    members.append(fs);
    return fs;
  };
  const addBtn = h('button', { type: 'button', class: 'secondary', onclick: () => add().querySelector('input').focus() }, 'Add a member');
  const form = h('form', { id: 'household-form' },
    GROUP_FIELDS.map((f) => field({ label: f === 'name' ? 'Household name' : (f === 'phone' ? 'Household phone' : LABELS[f]), name: f, type: TYPES[f] || 'text', required: f === 'name' })),
    h('h2', {}, 'Members'), members, addBtn,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save household')));
  add();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = {};
    for (const f of GROUP_FIELDS) {
      const el = form.querySelector(`:scope > .field [name="${f}"]`);
      if (el && el.value.trim()) data[f] = el.value.trim();
    }
    data.members = [...members.querySelectorAll('fieldset.member')]
      .map((fs) => formData(fs, PERSON_FIELDS))
      .filter((m) => Object.keys(m).length > 0)
      .map((m) => ({ type: 'individual', ...m }));
    await app.run('Saving…', async () => {
      const e = await app.dc.submitForm({ type: 'create-group', data });
      app.toast(`Saved household ${data.name} with ${data.members.length} members`);
      app.go('#/entity/' + encodeURIComponent(e.entityGuid));
    });
  });
  view.append(h('h1', {}, 'Register a household'), h('section', { class: 'card' }, form));
  form.querySelector('input').focus();
}

// ---- detail ----

export async function detailView(app, view, guid) {
  const dc = app.dc;
  const e = await dc.getEntity(guid);
  if (!e) {
    view.append(h('h1', {}, 'Record not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the records')));
    return;
  }
  const all = await dc.listEntities({ includeDeleted: true });
  const byGuid = new Map(all.map((x) => [x.guid, x]));
  view.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← Records')),
    h('h1', {}, kindLabel(e)),
    h('p', { class: 'muted' }, `Record ${e.guid} · version ${e.version} · updated ${fmtTime(e.lastUpdated)} · `,
      e.deleted ? h('strong', {}, 'deleted') : (SYNC_LEVELS[e.syncLevel] || e.syncLevel)));
  if (!e.deleted) {
    view.append(h('div', { class: 'actions' },
      h('a', { class: 'button', href: `#/entity/${encodeURIComponent(guid)}/edit` }, 'Edit'),
      h('button', { type: 'button', class: 'danger', onclick: () => deleteEntity(app, e) }, 'Delete')));
  }

  const order = e.type === 'group' ? GROUP_FIELDS : PERSON_FIELDS;
  const keys = [...order.filter((k) => k in e.data), ...Object.keys(e.data).filter((k) => !order.includes(k)).sort()];
  view.append(h('section', { class: 'card', 'aria-labelledby': 'h-fields' }, h('h2', { id: 'h-fields' }, 'Details'),
    keys.length ? h('dl', { class: 'fields' }, keys.flatMap((k) => [h('dt', {}, labelOf(k)), h('dd', {}, fieldValue(k, e.data[k], byGuid))]))
      : h('p', { class: 'muted' }, 'No details recorded.')));

  if (e.type === 'group') view.append(membersSection(app, e, byGuid));
  else {
    const groups = all.filter((g) => g.type === 'group' && !g.deleted && (g.memberIds || []).includes(e.guid));
    view.append(h('section', { class: 'card', 'aria-labelledby': 'h-groups' }, h('h2', { id: 'h-groups' }, 'Households'),
      groups.length ? h('ul', { class: 'plain' }, groups.map((g) => h('li', {}, h('a', { href: '#/entity/' + encodeURIComponent(g.guid) }, displayName(g)))))
        : h('p', { class: 'muted' }, 'Not a member of any household.')));
  }
  view.append(await historySection(app, e));
}

function fieldValue(k, v, byGuid) {
  if (k === 'mergedInto' && typeof v === 'string') return h('a', { href: '#/entity/' + encodeURIComponent(v) }, displayName(byGuid.get(v)));
  if (k === 'gender') return (GENDERS.find(([g]) => g === v) || [null, valueText(v)])[1];
  return valueText(v);
}

function membersSection(app, g, byGuid) {
  const ids = g.memberIds || [];
  const list = h('ul', { class: 'members' }, ids.map((id) => {
    const m = byGuid.get(id);
    const name = displayName(m);
    return h('li', {},
      h('a', { href: '#/entity/' + encodeURIComponent(id) }, name),
      m && m.data.nationalId ? h('span', { class: 'muted' }, ' · ID ' + m.data.nationalId) : null,
      g.deleted ? null : h('button', {
        type: 'button', class: 'secondary small', 'aria-label': `Remove ${name} from the household`,
        onclick: async () => {
          if (!await confirmDialog(`Remove ${name} from ${displayName(g)}? The person's record stays.`, 'Remove')) return;
          await app.run('Removing…', async () => {
            await app.dc.submitForm({ type: 'remove-member', entityGuid: g.guid, data: { memberId: id } });
            app.toast(`Removed ${name}`);
            app.rerender();
          });
        },
      }, 'Remove'));
  }));
  const section = h('section', { class: 'card', 'aria-labelledby': 'h-members' },
    h('h2', { id: 'h-members' }, `Members (${ids.length})`),
    ids.length ? list : h('p', { class: 'muted' }, 'No members yet.'));
  if (g.deleted) return section;

  const addForm = h('form', { id: 'add-member-form' }, personFields(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add member')));
  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const m = formData(addForm, PERSON_FIELDS);
    await app.run('Adding…', async () => {
      await app.dc.submitForm({ type: 'add-member', entityGuid: g.guid, data: { members: [{ type: 'individual', ...m }] } });
      app.toast(`Added ${displayName({ data: m })}`);
      app.rerender();
    });
  });
  const others = [...byGuid.values()].filter((x) => x.type === 'individual' && !x.deleted && !ids.includes(x.guid));
  const linkSel = h('select', { id: 'link-member', name: 'guid' }, h('option', { value: '' }, 'Choose a person'),
    others.map((x) => h('option', { value: x.guid }, displayName(x) + (x.data.nationalId ? ` (ID ${x.data.nationalId})` : ''))));
  const linkForm = h('form', { id: 'link-member-form', class: 'inline' },
    h('div', { class: 'field grow' }, h('label', { for: 'link-member' }, 'Existing person'), linkSel),
    h('button', { type: 'submit' }, 'Add to household'));
  linkForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!linkSel.value) return;
    await app.run('Adding…', async () => {
      await app.dc.submitForm({ type: 'add-member', entityGuid: g.guid, data: { members: [{ guid: linkSel.value }] } });
      app.toast('Member added');
      app.rerender();
    });
  });
  section.append(h('details', { class: 'add' }, h('summary', {}, 'Add a new member'), addForm));
  if (others.length) section.append(h('details', { class: 'add' }, h('summary', {}, 'Add an existing person'), linkForm));
  return section;
}

async function historySection(app, e) {
  const [audit, events, session] = await Promise.all([
    app.dc.auditLog({ entityGuid: e.guid, limit: 100 }),
    app.dc.listEvents({ entityGuid: e.guid }),
    app.dc.session(),
  ]);
  const byEvent = new Map(events.map((x) => [x.guid, x]));
  const entries = audit.filter((a) => a.eventGuid || a.action === 'conflict');
  const items = entries.length ? entries.map((a) => {
    const ev = byEvent.get(a.eventGuid);
    return h('li', {},
      h('div', { class: 'what' }, h('strong', {}, a.action === 'create-group' && e.type === 'individual' ? 'Registered with a household' : actionText(a.action)), ' ', h('time', { datetime: a.timestamp }, fmtTime(a.timestamp)),
        a.userId ? h('span', { class: 'muted' }, ' by ' + userText(a.userId, session)) : null,
        ev ? h('span', { class: 'badge ' + (ev.failure ? 'badge-failed' : ev.syncLevel === 'LOCAL' ? 'badge-local' : 'badge-ok') },
          ev.failure ? 'Refused by the server' : SYNC_LEVELS[ev.syncLevel]) : null),
      ev && ev.failure ? h('p', { class: 'error' }, `${ev.failure.code}: ${ev.failure.message}`) : null,
      a.changes && a.changes.length ? h('ul', { class: 'changes' }, a.changes.map((c) =>
        h('li', {}, labelOf(c.field) + ': ', c.field === 'memberIds' ? memberChange(c)
          : [h('del', {}, valueText(c.old)), ' → ', h('ins', {}, valueText(c.new))]))) : null);
  }) : events.map((ev) => h('li', {}, h('strong', {}, actionText(ev.type)), ' ', fmtTime(ev.timestamp), ' · ', SYNC_LEVELS[ev.syncLevel]));
  return h('section', { class: 'card', 'aria-labelledby': 'h-history' }, h('h2', { id: 'h-history' }, 'History'),
    items.length ? h('ol', { class: 'history', id: 'history' }, items) : h('p', { class: 'muted' }, 'No history.'));
}

function memberChange(c) {
  const before = Array.isArray(c.old) ? c.old.length : 0;
  const after = Array.isArray(c.new) ? c.new.length : 0;
  return `${before} → ${after}`;
}

async function deleteEntity(app, e) {
  if (!await confirmDialog(`Delete ${displayName(e)}? The deletion is synced to every device.`, 'Delete')) return;
  await app.run('Deleting…', async () => {
    await app.dc.submitForm({ type: 'delete-entity', entityGuid: e.guid });
    app.toast(`Deleted ${displayName(e)}`);
    app.go('#/');
  });
}

// ---- edit ----

export async function editView(app, view, guid) {
  const e = await app.dc.getEntity(guid);
  if (!e || e.deleted) {
    view.append(h('h1', {}, 'Record not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the records')));
    return;
  }
  const known = e.type === 'group' ? GROUP_FIELDS : PERSON_FIELDS;
  const extra = Object.keys(e.data).filter((k) => !known.includes(k) && k !== 'mergedInto' && typeof e.data[k] !== 'object').sort();
  const names = [...known, ...extra];
  const form = h('form', { id: 'edit-form' },
    e.type === 'group'
      ? GROUP_FIELDS.map((f) => field({ label: f === 'name' ? 'Household name' : (f === 'phone' ? 'Household phone' : LABELS[f]), name: f, type: TYPES[f] || 'text', value: e.data[f] ?? '', required: f === 'name' }))
      : personFields('', e.data),
    extra.map((f) => field({ label: labelOf(f), name: f, value: String(e.data[f] ?? '') })),
    h('div', { class: 'actions' },
      h('a', { class: 'button secondary', href: '#/entity/' + encodeURIComponent(guid) }, 'Cancel'),
      h('button', { type: 'submit' }, 'Save changes')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const now = formData(form, names);
    const changes = {};
    for (const k of names) {
      const before = e.data[k] === undefined || e.data[k] === null ? undefined : String(e.data[k]);
      if (now[k] === before) continue;
      if (now[k] === undefined && before === undefined) continue;
      changes[k] = now[k] === undefined ? null : now[k];
    }
    if (Object.keys(changes).length === 0) { app.toast('Nothing changed'); return; }
    await app.run('Saving…', async () => {
      await app.dc.submitForm({ type: e.type === 'group' ? 'update-group' : 'update-individual', entityGuid: guid, data: changes });
      app.toast('Saved changes to ' + displayName({ ...e, data: { ...e.data, ...changes } }));
      app.go('#/entity/' + encodeURIComponent(guid));
    });
  });
  view.append(h('p', { class: 'crumbs' }, h('a', { href: '#/entity/' + encodeURIComponent(guid) }, '← ' + displayName(e))),
    h('h1', {}, 'Edit ', displayName(e)), h('section', { class: 'card' }, form));
  form.querySelector('input').focus();
}

