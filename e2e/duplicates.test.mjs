// Duplicate detection end to end: two devices (browser contexts) register
// the same person, both flag the pair after syncing, unrelated work keeps
// syncing, and resolve-duplicate (keep, then merge) clears it everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser, openApp } from './helpers.mjs';

const env = useServerAndBrowser();
const login = { email: 'demo@example.org', password: 'demo-password' };
let seq = 0;

// device opens a page with a fresh database, logged in, without automatic
// sync (the test syncs by hand).
async function device(ctx) {
  const page = await openApp(ctx, env.server.url, { bare: true });
  const dbName = `dup-${Date.now()}-${seq++}`;
  await page.evaluate(async ({ dbName, login }) => {
    const dc = window.datacollect;
    await dc.init({ appId: 'demo', dbName, autoSync: false });
    await dc.login(login.email, login.password);
  }, { dbName, login });
  return page;
}

const dc = (page, method, ...args) =>
  page.evaluate(({ method, args }) => window.datacollect[method](...args), { method, args });

const create = async (page, data) =>
  (await dc(page, 'submitForm', { type: 'create-individual', data })).entityGuid;

// groups returns duplicates() as {key: [guid, ...]}.
async function groups(page) {
  const gs = await dc(page, 'duplicates');
  return Object.fromEntries(gs.map((g) => [g.key, g.entities.map((e) => e.guid)]));
}

async function sync(page) {
  const r = await dc(page, 'sync');
  assert.equal(r.failed, 0, `sync failed events: ${JSON.stringify(r)}`);
  return r;
}

test('two devices flag the same person, keep and merge resolve it everywhere', async () => {
  const ctxA = await env.browser.newContext();
  const ctxB = await env.browser.newContext();
  try {
    const a = await device(ctxA);
    const b = await device(ctxB);

    // The same national id, spelt differently on each device.
    const ana = await create(a, { name: 'Ana Mwangi', nationalId: 'KE 12345' });
    const anna = await create(b, { name: 'Anna Mwangi', nationalId: '  ke   12345 ' });
    assert.deepEqual(await groups(a), {}, 'one device alone has no duplicate');
    await sync(a);
    await sync(b);
    await sync(a);
    const pair = { 'individual|ke 12345': [ana, anna].sort() };
    assert.deepEqual(await groups(a), pair);
    assert.deepEqual(await groups(b), pair);
    const [g] = await dc(a, 'duplicates', { limit: 1 });
    assert.equal(g.entities.find((e) => e.guid === anna).data.name, 'Anna Mwangi');

    // Flagged duplicates block nothing: unrelated events, and updates of
    // the flagged entities themselves, sync.
    const ben = await create(a, { name: 'Ben', nationalId: 'KE 999' });
    await dc(a, 'submitForm', { type: 'update-individual', entityGuid: ana, data: { phone: '555' } });
    const r = await sync(a);
    assert.equal(r.pushed, 2);
    await sync(b);
    assert.equal((await dc(b, 'getEntity', ben)).data.name, 'Ben');
    assert.equal((await dc(b, 'getEntity', ana)).data.phone, '555');
    assert.equal((await dc(a, 'status')).pendingEvents, 0);

    // keep on device B: both stay, declared distinct, on both devices.
    await dc(b, 'submitForm', { type: 'resolve-duplicate', entityGuid: anna, data: { duplicateGuid: ana, action: 'keep' } });
    assert.deepEqual(await groups(b), {});
    await sync(b);
    await sync(a);
    assert.deepEqual(await groups(a), {});
    assert.deepEqual(await groups(b), {});
    assert.equal((await dc(a, 'listEntities', { type: 'individual' })).length, 3, 'both kept');

    // Another pair, merged on device A.
    const cleo = await create(a, { name: 'Cleo', nationalId: 'UG-77', phone: '123' });
    const cleo2 = await create(b, { name: 'Cléo', nationalId: 'ug-77', village: 'Gulu' });
    await sync(a);
    await sync(b);
    await sync(a);
    assert.deepEqual(await groups(a), { 'individual|ug-77': [cleo, cleo2].sort() });
    await dc(a, 'submitForm', { type: 'resolve-duplicate', entityGuid: cleo, data: { duplicateGuid: cleo2, action: 'merge' } });
    await sync(a);
    await sync(b);
    for (const page of [a, b]) {
      assert.deepEqual(await groups(page), {});
      const live = await dc(page, 'listEntities', { type: 'individual' });
      assert.deepEqual(live.filter((e) => e.data.nationalId.toLowerCase() === 'ug-77').map((e) => e.guid), [cleo],
        'one live entity');
      const survivor = await dc(page, 'getEntity', cleo);
      assert.equal(survivor.data.village, 'Gulu', 'the missing field moved over');
      assert.equal(survivor.data.name, 'Cleo', 'its own fields stay');
      const tomb = await dc(page, 'getEntity', cleo2);
      assert.equal(tomb.deleted, true);
      assert.equal(tomb.data.mergedInto, cleo);
    }
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});
