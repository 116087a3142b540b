// Conflicts between two devices (two browser contexts) through the real
// server: the manual strategy with an app-provided resolver, and the default
// field-level merge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser, openApp } from './helpers.mjs';

const env = useServerAndBrowser();
const login = { email: 'demo@example.org', password: 'demo-password' };
let n = 0;

async function device(init) {
  const ctx = await env.browser.newContext();
  const page = await openApp(ctx, env.server.url, { bare: true });
  await page.evaluate(async ({ login, init }) => {
    const dc = window.datacollect;
    window.seen = { conflict: [] };
    dc.addEventListener('conflict', (e) => window.seen.conflict.push(e.detail));
    await dc.init({ appId: 'demo', autoSync: false, ...init });
    await dc.login(login.email, login.password);
  }, { login, init: { dbName: `conflict-${Date.now()}-${n++}`, ...init } });
  return page;
}

const sync = (page) => page.evaluate(() => window.datacollect.sync());
const entity = (page, guid) => page.evaluate((g) => window.datacollect.getEntity(g), guid);

test('manual: both devices see the conflict; a resolver answers it and every device applies the answer', async () => {
  const a = await device({ conflictStrategy: 'manual' });
  const b = await device({ conflictStrategy: 'manual' });
  const guid = 'e2e-conflict-' + Date.now();
  await a.evaluate((g) => window.datacollect.submitForm({ type: 'create-individual', entityGuid: g, data: { name: 'Ana', village: 'North' } }), guid);
  await sync(a);
  await sync(b);

  // Both edit the village offline; A syncs first.
  await a.evaluate((g) => window.datacollect.submitForm({ type: 'update-individual', entityGuid: g, data: { village: 'South' } }), guid);
  await b.evaluate((g) => window.datacollect.submitForm({ type: 'update-individual', entityGuid: g, data: { village: 'East', phone: '555' } }), guid);
  await sync(a);
  const rb = await sync(b);
  assert.equal(rb.conflicts, 1, 'B met the conflict when its edit reached the server');

  const open = await b.evaluate(() => window.datacollect.conflicts());
  assert.equal(open.length, 1);
  const c = open[0];
  assert.equal(c.entityGuid, guid);
  assert.equal(c.field, 'village');
  assert.equal(c.localValue, 'East', "B's own side is local");
  assert.equal(c.remoteValue, 'South');
  assert.ok(c.localEvent && c.remoteEvent && c.localEvent !== c.remoteEvent);
  await b.waitForFunction(() => window.seen.conflict.length === 1);
  const eb = await entity(b, guid);
  assert.equal(eb.data.phone, '555', 'the field only B changed merged');

  // A pulls: the same conflict, seen from A's side; the same value on both.
  await sync(a);
  const openA = await a.evaluate(() => window.datacollect.conflicts());
  assert.equal(openA.length, 1);
  assert.equal(openA[0].id, c.id);
  assert.equal(openA[0].localValue, 'South');
  assert.equal(openA[0].remoteValue, 'East');
  assert.deepEqual((await entity(a, guid)).data, eb.data, 'both devices hold the same provisional value');

  // B's app answers through its resolver (as a dialog would): keep mine.
  await b.evaluate(() => window.datacollect.setConflictResolver(async (conflict) => {
    window.asked = conflict;
    return { strategy: 'local' };
  }));
  await b.waitForFunction(async () => (await window.datacollect.conflicts()).length === 0);
  assert.equal(await b.evaluate(() => window.asked.field), 'village');
  await sync(b);
  await sync(a);
  assert.deepEqual(await a.evaluate(() => window.datacollect.conflicts()), [], 'the resolution synced to A');
  const fa = await entity(a, guid);
  const fb = await entity(b, guid);
  assert.equal(fa.data.village, 'East');
  assert.deepEqual(fa.data, fb.data);
  assert.equal(fa.version, fb.version);
  const audit = await a.evaluate((g) => window.datacollect.auditLog({ entityGuid: g }), guid);
  assert.ok(audit.some((x) => x.action === 'conflict'), 'the conflict is audited');
  assert.ok(audit.some((x) => x.action === 'resolve-conflict'));
});

test('merge (the default): concurrent edits of different fields both stay; of one field the later wins', async () => {
  const a = await device({});
  const b = await device({});
  const guid = 'e2e-merge-' + Date.now();
  await a.evaluate((g) => window.datacollect.submitForm({ type: 'create-individual', entityGuid: g, data: { name: 'Ben' } }), guid);
  await sync(a);
  await sync(b);
  await a.evaluate((g) => window.datacollect.submitForm({ type: 'update-individual', entityGuid: g, data: { phone: '111', name: 'Benjamin' } }), guid);
  await new Promise((r) => setTimeout(r, 20)); // B's edit is later
  await b.evaluate((g) => window.datacollect.submitForm({ type: 'update-individual', entityGuid: g, data: { village: 'West', name: 'Benji' } }), guid);
  await sync(b);
  await sync(a);
  await sync(b);
  const ea = await entity(a, guid);
  const eb = await entity(b, guid);
  assert.deepEqual(ea.data, { name: 'Benji', phone: '111', village: 'West' });
  assert.deepEqual(ea.data, eb.data);
  assert.deepEqual(await a.evaluate(() => window.datacollect.conflicts()), [], 'merge leaves nothing open');
  const metrics = await a.evaluate(() => window.datacollect.metrics());
  assert.ok(metrics === null || metrics.conflictsResolved >= 0);
});
