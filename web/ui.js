// DOM and formatting helpers shared by the app's views.

// h builds an element: h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child...).
// Attributes set to false, null or undefined are left out; children that are
// null, undefined or false are skipped; arrays are flattened.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

let uid = 0;
// field is a labelled form control: {label, name, type, value, required, options, hint, autocomplete}.
export function field({ label, name, type = 'text', value = '', required = false, options, hint, autocomplete = 'off', ...rest }) {
  const id = 'f' + (++uid);
  const hintId = hint ? id + '-hint' : null;
  let control;
  if (options) {
    control = h('select', { id, name, required, 'aria-describedby': hintId, ...rest },
      options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  } else {
    control = h('input', { id, name, type, value: value ?? '', required, autocomplete, 'aria-describedby': hintId, ...rest });
  }
  return h('div', { class: 'field' },
    h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    control,
    hint ? h('p', { id: hintId, class: 'hint' }, hint) : null);
}

// Field names and their labels, in display order.
export const LABELS = {
  name: 'Name', givenName: 'Given name', familyName: 'Family name', birthdate: 'Birthdate',
  gender: 'Gender', nationalId: 'National ID', phone: 'Phone', village: 'Village',
  mergedInto: 'Merged into', deleted: 'Deleted', memberIds: 'Members',
};
export const GENDERS = [['', 'Not given'], ['female', 'Female'], ['male', 'Male'], ['other', 'Other']];
export const labelOf = (f) => LABELS[f] || f.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());

// displayName is an entity's human name.
export function displayName(e) {
  if (!e) return 'Unknown record';
  const d = e.data || {};
  const n = d.name || [d.givenName, d.familyName].filter(Boolean).join(' ');
  return String(n || (e.type === 'group' ? 'Unnamed household' : 'Unnamed person'));
}
export const kindOf = (e) => (e && e.type === 'group' ? 'Household' : 'Person');

// valueText renders a stored value for people.
export function valueText(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.length + (v.length === 1 ? ' item' : ' items');
  return JSON.stringify(v);
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

export function errText(err) {
  if (!err) return '';
  return (err.code ? err.code + ': ' : '') + (err.message || String(err));
}

// Event types in words.
const ACTIONS = {
  'create-individual': 'Registered', 'update-individual': 'Edited', 'create-group': 'Household registered',
  'update-group': 'Household edited', 'add-member': 'Member added', 'remove-member': 'Member removed',
  'delete-entity': 'Deleted', 'resolve-duplicate': 'Duplicate reviewed', 'resolve-conflict': 'Conflict resolved',
  conflict: 'Conflict', sync: 'Synced', push: 'Sent to server', pull: 'Received',
};
export const actionText = (a) => ACTIONS[a] || a;

export const SYNC_LEVELS = { LOCAL: 'Not synced yet', SYNCED: 'Synced', EXTERNAL: 'From external system' };

// confirmDialog asks a yes/no question in a modal <dialog>; resolves true on yes.
export function confirmDialog(question, yes = 'Yes', no = 'Cancel') {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-q' },
      h('form', { method: 'dialog' },
        h('p', { id: 'confirm-q' }, question),
        h('div', { class: 'actions' },
          h('button', { value: 'no', class: 'secondary' }, no),
          h('button', { value: 'yes', class: 'danger' }, yes))));
    dlg.addEventListener('close', () => { resolve(dlg.returnValue === 'yes'); dlg.remove(); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

// userText names who recorded something: "you", "this device" (before login), or a short user id.
export function userText(userId, session) {
  if (!userId) return '';
  if (session && userId === session.userId) return 'you';
  if (userId === 'local') return 'this device';
  return /^[0-9a-f-]{36}$/i.test(userId) ? 'user ' + userId.slice(0, 8) : userId;
}
