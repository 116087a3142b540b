// The sync lifecycle in real Chromium against the real server: automatic
// sync when the network returns, retries with backoff, 401 handling, two
// tabs taking turns, status surviving a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser, openApp } from './helpers.mjs';

const env = useServerAndBrowser();
const login = { email: 'demo@example.org', password: 'demo-password' };
let seq = 0;

// device opens a page with a fresh database, logged in. The page records
// every sync/status/metrics/auth/alert event in window.seen.
async function device(ctx, opts = {}) {
  const page = await openApp(ctx, env.server.url, { bare: true });
  const dbName = opts.dbName || `life-${Date.now()}-${seq++}`;
  await page.evaluate(async ({ dbName, login, opts }) => {
    const dc = window.datacollect;
    window.seen = { sync: [], status: [], metrics: [], auth: [], alert: [], change: [] };
    for (const type of Object.keys(window.seen)) {
      dc.addEventListener(type, (e) => window.seen[type].push(e.detail));
    }
    await dc.init({ appId: 'demo', dbName, debounceMs: 100, ...opts.init });
    if (!opts.noLogin) await dc.login(login.email, login.password);
  }, { dbName, login, opts });
  if (!opts.noLogin && opts.init?.autoSync !== false) {
    // Logging in syncs at once: let that sync end first.
    await until(page, () => window.seen.sync.some((s) => !s.error), null, 'the sync after login');
  }
  page.dbName = dbName;
  return page;
}

const record = (page, name) => page.evaluate((name) =>
  window.datacollect.submitForm({ type: 'create-individual', data: { name } }), name);

const status = (page) => page.evaluate(() => window.datacollect.status());

async function until(page, fn, arg, what, timeout = 15000) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 50 });
  } catch (e) {
    const seen = await page.evaluate(() => JSON.stringify({ ...window.seen, status: window.seen.status.slice(-3) }));
    throw new Error(`timed out waiting for ${what}; seen: ${seen}`);
  }
}

// waitStatus polls status() until pred holds.
async function waitStatus(page, pred, what, timeout = 15000) {
  const end = Date.now() + timeout;
  let st;
  while (Date.now() < end) {
    st = await status(page);
    if (pred(st)) return st;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(st)}`);
}

// countRequests counts the sync requests a context sends, by path.
function countRequests(ctx) {
  const n = { push: 0, pull: 0 };
  ctx.on('request', (r) => {
    const p = new URL(r.url()).pathname;
    if (p === '/api/v1/sync/push') n.push++;
    if (p === '/api/v1/sync/pull') n.pull++;
  });
  return n;
}

test('offline: recording works and nothing is attempted; going online syncs by itself', async () => {
  const ctx = await env.browser.newContext();
  try {
    const page = await device(ctx);
    const n = countRequests(ctx);
    await ctx.setOffline(true);
    await waitStatus(page, (st) => !st.online, 'offline status');
    await record(page, 'Offline Ana');
    await record(page, 'Offline Ben');
    await page.waitForTimeout(1000); // well past the 100 ms debounce
    let st = await status(page);
    assert.equal(st.pendingEvents, 2);
    assert.equal(n.push + n.pull, 0, 'offline: no request at all');

    await ctx.setOffline(false);
    await until(page, () => window.seen.sync.some((s) => !s.error && s.result.pushed === 2), null, 'the sync after going online');
    st = await status(page);
    assert.equal(st.online, true);
    assert.equal(st.lastError, null);
    assert.ok(st.lastSyncTime);
    // (The first push may fail while Chromium restores the network: it is
    // then retried.)
    assert.ok(n.push >= 1);
    const audit = await page.evaluate(() => window.datacollect.auditLog());
    assert.ok(audit.some((a) => a.action === 'sync' && a.status === 'ok' && a.events >= 2), 'the sync is audited on the device: ' + JSON.stringify(audit.slice(0, 3)));
  } finally {
    await ctx.close();
  }
});

test('a server answering 503 twice then 200 ends synced with retryAttempts == 2', async () => {
  const ctx = await env.browser.newContext();
  try {
    const page = await device(ctx);
    let failures = 2;
    await ctx.route('**/api/v1/sync/push', (route) => {
      if (failures-- > 0) {
        return route.fulfill({ status: 503, contentType: 'text/plain', body: 'busy' });
      }
      return route.continue();
    });
    await record(page, 'Retry Ana');
    await until(page, () => window.seen.metrics.some((m) => m.retryAttempts === 2), null, 'a metrics event with retryAttempts 2');
    const st = await status(page);
    assert.equal(st.pendingEvents, 0);
    assert.equal(st.retryAttempts, 0);
    assert.equal(st.nextRetry, '');
    const m = await page.evaluate(() => window.datacollect.metrics());
    assert.equal(m.retryAttempts, 2);
    assert.equal(m.errorsEncountered, 2);
    assert.ok(m.entitiesSynced >= 1 && m.bytesTransferred > 0);
    const errs = await page.evaluate(() => window.seen.sync.filter((s) => s.error).map((s) => s.error.code));
    assert.deepEqual(errs.slice(-2), ['ENETWORK', 'ENETWORK'], 'the two 503s were seen as errors');
    // The status between the failures said when the next retry was due.
    const retrying = await page.evaluate(() => window.seen.status.filter((s) => s.nextRetry !== ''));
    assert.ok(retrying.length > 0, 'status showed nextRetry while backing off');
  } finally {
    await ctx.close();
  }
});

test('an expired access token is refreshed once, transparently', async () => {
  const ctx = await env.browser.newContext();
  try {
    const page = await device(ctx, { init: { autoSync: false } });
    await page.evaluate(() => { window.seen.auth = []; });
    const n = { push: 0, refresh: 0 };
    await ctx.route('**/api/v1/auth/refresh', (route) => { n.refresh++; return route.continue(); });
    await ctx.route('**/api/v1/sync/push', (route) => {
      if (n.push++ > 0) return route.continue();
      return route.fulfill({
        status: 401, contentType: 'application/json', body: JSON.stringify({ code: 'EUNAUTHORIZED', message: 'token expired' }),
      });
    });
    await record(page, 'Refresh Ana');
    const r = await page.evaluate(() => window.datacollect.sync());
    assert.equal(r.pushed, 1);
    assert.deepEqual(n, { push: 2, refresh: 1 });
    assert.equal((await page.evaluate(() => window.seen.auth)).length, 0, 'no auth event');
    // The refreshed session keeps working.
    await record(page, 'Refresh Ben');
    assert.equal((await page.evaluate(() => window.datacollect.sync())).pushed, 1);
    assert.equal(n.refresh, 1);
  } finally {
    await ctx.close();
  }
});

test('a 401 that a refresh does not cure stops retries and emits auth; logging in again resumes', async () => {
  const ctx = await env.browser.newContext();
  try {
    const page = await device(ctx, { init: { retryBaseMs: 50 } });
    await page.evaluate(() => { window.seen.auth = []; }); // the one before login
    const n = { push: 0, refresh: 0 };
    await ctx.route('**/api/v1/auth/refresh', (route) => { n.refresh++; return route.continue(); });
    await ctx.route('**/api/v1/sync/push', (route) => {
      n.push++;
      return route.fulfill({
        status: 401, contentType: 'application/json', body: JSON.stringify({ code: 'EUNAUTHORIZED', message: 'token expired' }),
      });
    });
    await record(page, 'Auth Ana');
    await until(page, () => window.seen.auth.length === 1, null, 'the auth event');
    await record(page, 'Auth Ben');
    await page.waitForTimeout(1500); // 30 retries' worth at 50 ms
    // One push, one refresh, one retry with the new token: then no more.
    assert.equal(n.push, 2, 'no retry after a 401: ' + JSON.stringify(await page.evaluate(() => window.seen.sync)));
    assert.equal(n.refresh, 1);
    const detail = await page.evaluate(() => window.seen.auth[0]);
    assert.equal(detail.code, 'EUNAUTHORIZED');
    let st = await status(page);
    assert.equal(st.authRequired, true);
    assert.equal(st.pendingEvents, 2);

    await ctx.unroute('**/api/v1/sync/push');
    await page.evaluate((l) => window.datacollect.login(l.email, l.password), login);
    await waitStatus(page, (st) => st.pendingEvents === 0, 'the sync after login');
    st = await status(page);
    assert.equal(st.authRequired, false);
  } finally {
    await ctx.close();
  }
});

test('two tabs of one app never sync at once and see each other\'s changes', async () => {
  const ctx = await env.browser.newContext();
  try {
    const a = await device(ctx, { init: { autoSync: false } });
    const b = await device(ctx, { dbName: a.dbName, noLogin: true, init: { autoSync: false } });
    // Every sync request is slowed down; record which tab has one in flight.
    const inFlight = new Map();
    let overlaps = 0;
    let maxTabs = 0;
    let pushes = 0;
    await ctx.route(/\/api\/v1\/sync\/(push|pull)/, async (route) => {
      const tab = route.request().frame().page() === a ? 'a' : 'b';
      if (route.request().url().includes('/push')) pushes++;
      inFlight.set(tab, (inFlight.get(tab) || 0) + 1);
      const tabs = [...inFlight.values()].filter((v) => v > 0).length;
      maxTabs = Math.max(maxTabs, tabs);
      if (tabs > 1) overlaps++;
      await new Promise((r) => setTimeout(r, 150));
      try {
        await route.continue();
      } finally {
        inFlight.set(tab, inFlight.get(tab) - 1);
      }
    });
    assert.ok(await b.evaluate(() => window.datacollect.session()), 'the second tab shares the session');

    const made = await a.evaluate(() => window.datacollect.submitForm({ type: 'create-individual', data: { name: 'Tab Ana' } }));
    await until(b, (guid) => window.seen.change.some((c) => c.entities.some((e) => e.guid === guid)), made.entityGuid, 'tab B\'s change event for tab A\'s record');

    const results = await Promise.all([
      a.evaluate(() => Promise.all([window.datacollect.sync(), window.datacollect.sync()])),
      b.evaluate(() => Promise.all([window.datacollect.sync(), window.datacollect.sync()])),
      a.evaluate(() => window.datacollect.sync()),
      b.evaluate(() => window.datacollect.sync()),
    ]);
    assert.equal(overlaps, 0, 'sync requests of the two tabs never overlapped');
    assert.equal(maxTabs, 1);
    assert.ok(results.flat().some((r) => r.pushed === 1));
    assert.equal(pushes, 1, 'the record was pushed once, by one tab; the other found nothing to push');
    await until(b, () => window.seen.status.some((s) => s.lastSyncTime !== '' && s.pendingEvents === 0), null, 'tab B\'s status after the syncs');
  } finally {
    await ctx.close();
  }
});

test('status, metrics and plan survive a reload; inspect and retryFailed', async () => {
  const ctx = await env.browser.newContext();
  try {
    const page = await device(ctx);
    await record(page, 'Reload Ana');
    await until(page, () => window.seen.sync.some((s) => !s.error && s.result.pushed === 1), null, 'the debounced sync');
    const before = await status(page);
    const metricsBefore = await page.evaluate(() => window.datacollect.metrics());
    assert.ok(before.lastSyncTime);

    await page.evaluate(() => window.datacollect.setAutoSync(false));
    await record(page, 'Pending Ben');
    await page.reload();
    await page.evaluate(() => window.datacollect.ready);
    const after = await page.evaluate(async (dbName) => {
      const dc = window.datacollect;
      await dc.init({ appId: 'demo', dbName, autoSync: false });
      return { status: await dc.status(), metrics: await dc.metrics(), plan: await dc.plan(), inspect: await dc.inspect(),
        local: (await dc.listEvents({ syncLevel: 'LOCAL' })).map((e) => e.data.name) };
    }, page.dbName);
    assert.equal(after.status.lastSyncTime, before.lastSyncTime, 'lastSyncTime survived the reload');
    assert.deepEqual(after.metrics, metricsBefore, 'the last metrics survived the reload');
    assert.equal(after.status.pendingEvents, 1, JSON.stringify(after));
    assert.equal(after.plan.push, 1);
    assert.ok(after.plan.pull >= 0);
    assert.equal(after.inspect.unsyncedEvents, 1);
    assert.ok(after.inspect.cursor > 0);
    assert.deepEqual(after.inspect.failedItems, []);

    // An event the server rejects is failed with its reason, and stays so
    // until retryFailed(): another device already created this guid.
    const guid = 'e2e-dup-' + Date.now();
    const other = await device(await env.browser.newContext(), { init: { autoSync: false } });
    await other.evaluate((guid) => window.datacollect.submitForm({ type: 'create-individual', entityGuid: guid, data: { name: 'First' } }), guid);
    await other.evaluate(() => window.datacollect.sync());
    const r = await page.evaluate(async (guid) => {
      const dc = window.datacollect;
      await dc.submitForm({ type: 'create-individual', entityGuid: guid, data: { name: 'Second' } });
      return dc.push();
    }, guid);
    assert.equal(r.failed, 1);
    const inspect = await page.evaluate(() => window.datacollect.inspect());
    assert.equal(inspect.failedItems.length, 1);
    assert.equal(inspect.failedItems[0].code, 'EEXISTS');
    assert.match(inspect.failedItems[0].message, /already exists/);
    assert.equal((await status(page)).failedEvents, 1);
    const requeued = await page.evaluate(() => window.datacollect.retryFailed());
    assert.deepEqual(requeued, { requeued: 1 });
    assert.equal((await status(page)).failedEvents, 0);
    assert.equal((await status(page)).pendingEvents, 1);
  } finally {
    await ctx.close();
  }
});
