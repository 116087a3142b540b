// DataCollect field app: boots the wasm client (window.datacollect), routes
// between the views, and keeps the sync status, progress and banners current.
import { h, field, fmtTime, errText } from './ui.js';
import { listView, newIndividualView, newHouseholdView, detailView, editView } from './records.js';
import { syncView, conflictDialog, duplicatesView } from './review.js';

const $ = (sel) => document.querySelector(sel);
const view = $('#view');
const APP_KEY = 'datacollect.appId';
const protectedKey = (appId) => 'datacollect.protected.' + appId;

const state = {
  appId: localStorage.getItem(APP_KEY) || 'demo',
  opened: false, // init() succeeded once on this page (unlock() can re-open)
  locked: false,
  status: null,
  sessionExpired: false,
  updateReady: false,
};
const isProtected = () => localStorage.getItem(protectedKey(state.appId)) === '1';
const initOptions = (extra = {}) => ({ appId: state.appId, conflictStrategy: 'manual', ...extra });

// ---- the app object the views use ----

let messageTimer = 0;
const app = {
  dc: null,
  lastResult: '',
  go(hash) {
    if (location.hash === hash) render(true); else location.hash = hash;
  },
  toast(msg, kind = 'info') {
    const m = $('#message');
    m.textContent = msg;
    m.className = 'message ' + kind;
    clearTimeout(messageTimer);
    if (kind !== 'error') messageTimer = setTimeout(() => { m.className = 'message faded'; }, 6000);
  },
  // run does an action, reporting its errors; busy names it meanwhile.
  async run(busy, fn) {
    document.body.setAttribute('aria-busy', 'true');
    try {
      return await fn();
    } catch (err) {
      app.toast(errText(err), 'error');
    } finally {
      document.body.removeAttribute('aria-busy');
    }
  },
  rerender() { render(false); },
  syncNow,
  openConflicts: () => conflictDialog(app),
};

// ---- routing ----

const routes = [
  [/^$/, (v, m, q) => listView(app, v, q), 'records'],
  [/^new\/individual$/, (v) => newIndividualView(app, v), 'new-individual'],
  [/^new\/household$/, (v) => newHouseholdView(app, v), 'new-household'],
  [/^entity\/([^/]+)$/, (v, m) => detailView(app, v, decodeURIComponent(m[1])), 'detail'],
  [/^entity\/([^/]+)\/edit$/, (v, m) => editView(app, v, decodeURIComponent(m[1])), 'edit'],
  [/^sync$/, (v) => syncView(app, v), 'sync'],
  [/^duplicates$/, (v) => duplicatesView(app, v), 'duplicates'],
  [/^account$/, (v) => accountView(v), 'account'],
];
// Views re-drawn when records change (forms are not, so typing is never lost).
const LIVE = new Set(['records', 'detail', 'sync', 'duplicates']);
let current = '';
let renderSeq = 0;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

async function render(navigated) {
  if (state.locked || !app.dc) return;
  const { path, query } = parseHash();
  const route = routes.find(([re]) => re.test(path)) || routes[0];
  const seq = ++renderSeq;
  const focusId = !navigated && document.activeElement && document.activeElement.id;
  const sel = focusId && 'selectionStart' in document.activeElement ? document.activeElement.selectionStart : null;
  const scroll = window.scrollY;
  const next = document.createElement('div');
  try {
    await route[1](next, path.match(route[0]), query);
  } catch (err) {
    next.replaceChildren(h('h1', {}, 'Something went wrong'), h('p', { class: 'error' }, errText(err)));
  }
  if (seq !== renderSeq) return; // a later render won
  current = route[2];
  view.replaceChildren(...next.childNodes);
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.route === current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (navigated) {
    window.scrollTo(0, 0);
    if (!view.contains(document.activeElement) || document.activeElement === view) {
      const h1 = view.querySelector('h1');
      if (h1) { h1.tabIndex = -1; h1.focus({ preventScroll: true }); }
    }
  } else {
    window.scrollTo(0, scroll);
    const el = focusId && document.getElementById(focusId);
    if (el) { el.focus({ preventScroll: true }); if (sel !== null && el.setSelectionRange) try { el.setSelectionRange(sel, sel); } catch { /* not a text field */ } }
  }
}

let changeTimer = 0;
function onChange() {
  clearTimeout(changeTimer);
  changeTimer = setTimeout(() => { if (LIVE.has(current) && !document.querySelector('dialog[open]')) render(false); }, 250);
}

// ---- status, progress, banners ----

function showStatus(st) {
  if (!st) return;
  state.status = st;
  const chips = [
    h('span', { class: 'chip ' + (st.online ? 'online' : 'offline') }, st.online ? 'Online' : 'Offline'),
    h('span', { class: 'chip' }, st.lastSyncTime ? 'Synced ' + fmtTime(st.lastSyncTime) : 'Never synced'),
    h('span', { class: 'chip' + (st.pendingEvents ? ' warn' : '') }, `${st.pendingEvents} waiting`),
  ];
  if (st.failedEvents) chips.push(h('a', { class: 'chip bad', href: '#/sync' }, `${st.failedEvents} refused`));
  if (st.conflicts) chips.push(h('button', { type: 'button', class: 'chip bad', onclick: app.openConflicts }, `${st.conflicts} ${st.conflicts === 1 ? 'conflict' : 'conflicts'}`));
  if (st.syncInProgress) chips.push(h('span', { class: 'chip' }, 'Syncing…'));
  if (st.nextRetry) chips.push(h('span', { class: 'chip' }, 'Retry ' + fmtTime(st.nextRetry)));
  if (st.authRequired) chips.push(h('a', { class: 'chip warn', href: '#/account' }, 'Log in to sync'));
  else if (st.lastError && !st.syncInProgress) chips.push(h('span', { class: 'chip bad', title: st.lastError.message }, 'Last sync failed: ' + st.lastError.code));
  $('#status-chips').replaceChildren(...chips);
  showBanners();
}

function showBanners() {
  const st = state.status || {};
  const banners = [];
  if (state.sessionExpired) {
    banners.push(h('div', { class: 'banner warn', role: 'alert' }, 'Your session has expired. Your work is kept on this device; ',
      h('a', { href: '#/account' }, 'log in again'), ' to keep syncing.'));
  }
  if (st.conflicts) {
    banners.push(h('div', { class: 'banner bad' }, `${st.conflicts} ${st.conflicts === 1 ? 'change needs' : 'changes need'} your decision. `,
      h('button', { type: 'button', class: 'small', onclick: app.openConflicts }, 'Resolve conflicts')));
  }
  if (state.updateReady) {
    banners.push(h('div', { class: 'banner' }, 'A new version of the app is ready. ',
      h('button', { type: 'button', class: 'small', onclick: () => location.reload() }, 'Reload')));
  }
  $('#banners').replaceChildren(...banners);
}

const PHASES = { push: 'Sending changes', pull: 'Receiving changes', encrypt: 'Encrypting this device\'s data' };
let progressTimer = 0;
function showProgress({ phase, done, total }) {
  const wrap = $('#progress-wrap');
  const bar = $('#sync-progress');
  wrap.hidden = false;
  if (total > 0) { bar.max = total; bar.value = Math.min(done, total); } else bar.removeAttribute('value');
  const text = `${PHASES[phase] || phase}: ${done} of ${total}`;
  $('#progress-label').textContent = text;
  bar.setAttribute('aria-valuetext', text);
  clearTimeout(progressTimer);
  progressTimer = setTimeout(hideProgress, 15000);
}
function hideProgress() { clearTimeout(progressTimer); $('#progress-wrap').hidden = true; }

async function syncNow() {
  const btn = $('#sync-button');
  btn.setAttribute('aria-busy', 'true');
  btn.textContent = 'Syncing…';
  try {
    const r = await app.dc.sync();
    const parts = [`sent ${r.pushed}`, `received ${r.pulled}`];
    if (r.failed) parts.push(`${r.failed} refused`);
    if (r.conflicts) parts.push(`${r.conflicts} in conflict`);
    app.lastResult = `${fmtTime(new Date().toISOString())}: ${parts.join(', ')}`;
    app.toast('Synced: ' + parts.join(', '), r.failed || r.conflicts ? 'warn' : 'info');
  } catch (err) {
    app.lastResult = errText(err);
    if (err.code === 'ENETWORK' || err.code === 'ETIMEOUT') app.toast('No connection: your changes are kept on this device and sync when the network returns.', 'warn');
    else if (err.code === 'EUNAUTHORIZED') { app.toast('Log in to sync.', 'warn'); app.go('#/account'); }
    else app.toast('Sync failed: ' + errText(err), 'error');
  } finally {
    btn.removeAttribute('aria-busy');
    btn.textContent = 'Sync now';
    hideProgress();
    try { showStatus(await app.dc.status()); } catch { /* locked */ }
    if (current === 'sync') render(false);
  }
}

// ---- account: login, session, device protection ----

async function accountView(v) {
  const dc = app.dc;
  const s = await dc.session();
  const expired = s && new Date(s.expiresAt) < new Date();
  v.append(h('h1', {}, 'Account'));
  const sess = h('section', { class: 'card', 'aria-labelledby': 'h-session' }, h('h2', { id: 'h-session' }, 'Session'));
  if (s && !expired && !state.sessionExpired) {
    sess.append(h('p', { id: 'session' }, `Logged in as ${s.email} (${s.role}) to app “${state.appId}” until ${fmtTime(s.expiresAt)}.`),
      h('button', {
        type: 'button', class: 'secondary', onclick: () => app.run('', async () => {
          await dc.logout(); app.toast('Logged out. Your records stay on this device.'); render(false);
        }),
      }, 'Log out'));
  } else {
    let text = 'Not logged in. You can record without logging in; log in to sync.';
    if (s && expired) text = `Your session expired at ${fmtTime(s.expiresAt)}. Log in again to sync.`;
    else if (s) text = 'The server no longer accepts your session. Log in again to sync.';
    sess.append(h('p', { id: 'session' }, text));
  }
  const form = h('form', { id: 'login-form' },
    field({ label: 'App ID', name: 'appId', value: state.appId, required: true, hint: 'The project your records belong to.' }),
    field({ label: 'Email', name: 'email', type: 'email', value: s ? s.email : '', required: true, autocomplete: 'username' }),
    field({ label: 'Password', name: 'password', type: 'password', required: true, autocomplete: 'current-password' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Log in')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    app.run('Logging in…', async () => {
      const appId = String(f.get('appId')).trim();
      if (appId !== state.appId) {
        state.appId = appId;
        localStorage.setItem(APP_KEY, appId);
        if (isProtected()) { location.reload(); return; }
        await dc.init(initOptions());
      }
      const ses = await dc.login(String(f.get('email')), String(f.get('password')));
      state.sessionExpired = false;
      showBanners();
      app.toast(`Logged in as ${ses.email}. Syncing…`);
      app.go('#/');
    });
  });
  sess.append(form);
  v.append(sess);

  const prot = h('section', { class: 'card', 'aria-labelledby': 'h-protect' }, h('h2', { id: 'h-protect' }, 'Device protection'));
  if (isProtected()) {
    prot.append(h('p', {}, 'The records on this device are encrypted with your passphrase. Lock the app when you put the device away.'),
      h('button', { type: 'button', onclick: lock }, 'Lock now'));
  } else {
    const pf = h('form', { id: 'protect-form' },
      h('p', {}, 'Optional: encrypt the records on this device with a passphrase. You will need it every time the app starts. It cannot be recovered if forgotten.'),
      field({ label: 'New passphrase', name: 'passphrase', type: 'password', required: true, minlength: 8, autocomplete: 'new-password', hint: 'At least 8 characters.' }),
      field({ label: 'Repeat passphrase', name: 'repeat', type: 'password', required: true, minlength: 8, autocomplete: 'new-password' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Protect this device')));
    pf.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = new FormData(pf);
      if (f.get('passphrase') !== f.get('repeat')) { app.toast('The passphrases differ.', 'error'); return; }
      app.run('Encrypting…', async () => {
        await dc.close();
        try {
          await dc.init(initOptions({ passphrase: String(f.get('passphrase')) }));
        } catch (err) {
          await dc.init(initOptions());
          throw err;
        } finally { hideProgress(); }
        localStorage.setItem(protectedKey(state.appId), '1');
        $('#lock-button').hidden = false;
        app.toast('This device is now protected by your passphrase.');
        render(false);
      });
    });
    prot.append(pf);
  }
  v.append(prot);
}

// ---- lock ----

async function lock() {
  await app.run('Locking…', async () => {
    await app.dc.lock();
    showLocked();
  });
}

function showLocked(message) {
  state.locked = true;
  document.body.classList.add('locked');
  const form = h('form', { id: 'unlock-form' },
    field({ label: 'Passphrase', name: 'passphrase', type: 'password', required: true, autocomplete: 'current-password' }),
    h('p', { class: 'error', id: 'unlock-error', role: 'alert' }, message || ''),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Unlock')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const pass = String(new FormData(form).get('passphrase'));
    const btn = form.querySelector('button');
    btn.disabled = true;
    try {
      if (state.opened) await app.dc.unlock(pass);
      else await app.dc.init(initOptions({ passphrase: pass }));
      localStorage.setItem(protectedKey(state.appId), '1');
      state.opened = true;
      state.locked = false;
      document.body.classList.remove('locked');
      hideProgress();
      await started();
    } catch (err) {
      btn.disabled = false;
      form.querySelector('#unlock-error').textContent = err.code === 'ECRYPTO' ? 'Wrong passphrase.' : errText(err);
      form.querySelector('input').select();
    }
  });
  view.replaceChildren(h('h1', {}, 'Locked'),
    h('section', { class: 'card' }, h('p', {}, `The records of “${state.appId}” on this device are encrypted. Enter your passphrase to continue.`), form));
  $('#message').textContent = 'Locked';
  form.querySelector('input').focus();
}

// ---- boot ----

async function started() {
  const dc = app.dc;
  $('#lock-button').hidden = !isProtected();
  const s = await dc.session();
  app.toast(s ? `Ready — logged in as ${s.email}` : 'Ready — working offline');
  showStatus(await dc.status());
  await render(true);
}

async function main() {
  if ('serviceWorker' in navigator && window.isSecureContext) {
    const hadController = !!navigator.serviceWorker.controller;
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (hadController) { state.updateReady = true; showBanners(); }
    });
    navigator.serviceWorker.register(new URL('sw.js', document.baseURI)).catch((err) => console.warn('service worker:', err));
  }
  const dc = await window.datacollect.ready;
  app.dc = dc;
  dc.addEventListener('change', onChange);
  dc.addEventListener('status', (e) => showStatus(e.detail));
  dc.addEventListener('progress', (e) => showProgress(e.detail));
  dc.addEventListener('sync', (e) => {
    hideProgress();
    if (!e.detail.error) app.lastResult = `${fmtTime(new Date().toISOString())}: sent ${e.detail.result.pushed}, received ${e.detail.result.pulled}`;
    onChange();
  });
  dc.addEventListener('auth', () => { state.sessionExpired = true; showBanners(); app.toast('Your session has expired: log in again to sync.', 'warn'); });
  dc.addEventListener('conflict', () => onChange());
  dc.addEventListener('alert', (e) => app.toast(e.detail.message, 'warn'));
  window.addEventListener('hashchange', () => render(true));
  $('#sync-button').addEventListener('click', syncNow);
  $('#lock-button').addEventListener('click', lock);

  if (isProtected()) { showLocked(); return; }
  try {
    await dc.init(initOptions());
  } catch (err) {
    if (err.code === 'ECRYPTO') { showLocked(); return; } // encrypted elsewhere: ask
    throw err;
  }
  state.opened = true;
  await started();
}

main().catch((err) => app.toast('The app failed to start: ' + errText(err), 'error'));
