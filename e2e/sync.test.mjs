// End-to-end sync between two browsers (two Playwright contexts = two
// devices) through the real server on its embedded SQLite database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser, openApp } from './helpers.mjs';

const env = useServerAndBrowser();

const login = { email: 'demo@example.org', password: 'demo-password' };

async function device(name) {
  const ctx = await env.browser.newContext();
  const page = await openApp(ctx, env.server.url);
  await page.evaluate(async ({ name, login }) => {
    const dc = window.datacollect;
    await dc.init({ appId: 'demo', dbName: 'sync-test-' + name, autoSync: false });
    await dc.login(login.email, login.password);
  }, { name, login });
  return { ctx, page };
}

const snapshot = (page) => page.evaluate(async () => {
  const es = await window.datacollect.listEntities({ includeDeleted: true });
  return es.map((e) => ({ ...e })).sort((a, b) => a.guid.localeCompare(b.guid));
});

test('device A records 200 households offline; B gets identical entities; edits converge', async () => {
  const a = await device('a');
  const b = await device('b');

  await a.ctx.setOffline(true);
  const offline = await a.page.evaluate(async () => {
    const dc = window.datacollect;
    const forms = [];
    for (let i = 0; i < 200; i++) {
      forms.push({ type: 'create-group', data: { name: 'Household ' + i, village: 'V' + (i % 7),
        members: [{ name: 'Head ' + i, role: 'head' }, { name: 'Child ' + i, age: i % 18 }] } });
    }
    await dc.submitForms(forms);
    const failed = await dc.sync().then(() => null, (e) => e.code);
    return { failed, pending: (await dc.listEvents({ syncLevel: 'LOCAL' })).length };
  });
  assert.equal(offline.failed, 'ENETWORK', 'offline sync fails cleanly');
  assert.equal(offline.pending, 200, 'and loses nothing');

  await a.ctx.setOffline(false);
  const progress = [];
  await a.page.exposeFunction('recordProgress', (p) => progress.push(p));
  const ra = await a.page.evaluate(async () => {
    const dc = window.datacollect;
    dc.addEventListener('progress', (e) => window.recordProgress(e.detail));
    return dc.sync();
  });
  assert.equal(ra.pushed, 200);
  assert.equal(ra.failed, 0);
  assert.ok(ra.bytesSent > 0 && ra.bytesReceived > 0);
  assert.ok(progress.some((p) => p.phase === 'push' && p.done === 200 && p.total === 200), 'push progress reported');
  assert.ok(progress.some((p) => p.phase === 'pull'), 'pull progress reported');

  const rb = await b.page.evaluate(() => window.datacollect.sync());
  assert.equal(rb.pulled, 200);
  const [sa, sb] = [await snapshot(a.page), await snapshot(b.page)];
  assert.equal(sa.length, 600);
  assert.deepEqual(sb, sa, 'B holds identical entities');
  assert.ok(sa.every((e) => e.syncLevel === 'SYNCED'));

  // B edits; A edits something else; both sync; both agree.
  const hh = sb.find((e) => e.type === 'group');
  await b.page.evaluate(async (hh) => {
    const dc = window.datacollect;
    await dc.submitForm({ type: 'update-group', entityGuid: hh.guid, data: { village: 'Changed by B' } });
    await dc.submitForm({ type: 'add-member', entityGuid: hh.guid, data: { members: [{ name: 'Baby' }] } });
    await dc.sync();
  }, hh);
  await a.page.evaluate(async (hh) => {
    const dc = window.datacollect;
    await dc.submitForm({ type: 'update-individual', entityGuid: hh.memberIds[0], data: { phone: '+254700000001' } });
    await dc.sync();
  }, hh);
  await b.page.evaluate(() => window.datacollect.sync());
  const [fa, fb] = [await snapshot(a.page), await snapshot(b.page)];
  assert.deepEqual(fa, fb, 'both agree');
  const ga = fa.find((e) => e.guid === hh.guid);
  assert.equal(ga.data.village, 'Changed by B');
  assert.equal(ga.memberIds.length, 3);
  assert.equal(fa.find((e) => e.guid === hh.memberIds[0]).data.phone, '+254700000001');

  // The session survives a reload; a bad login is refused with a code.
  await a.page.reload();
  const after = await a.page.evaluate(async () => {
    const dc = await window.datacollect.ready;
    await dc.init({ appId: 'demo', dbName: 'sync-test-a', autoSync: false });
    const s = await dc.session();
    const r = await dc.sync();
    const bad = await dc.login('demo@example.org', 'wrong').then(() => 'ok', (e) => e.code);
    return { email: s && s.email, pulled: r.pulled, bad };
  });
  assert.deepEqual(after, { email: 'demo@example.org', pulled: 0, bad: 'EUNAUTHORIZED' });
  await a.ctx.close();
  await b.ctx.close();
});
