// End-to-end: the page served by the real server loads the wasm client, which
// records data into IndexedDB that survives a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser, openApp } from './helpers.mjs';

const env = useServerAndBrowser();

test('a household with two members survives a reload', async () => {
  const ctx = await env.browser.newContext();
  const page = await openApp(ctx, env.server.url);
  const appId = 'e2e-' + Date.now();
  const hh = await page.evaluate(async (appId) => {
    const dc = window.datacollect;
    await dc.init({ appId });
    const ev = await dc.submitForm({
      type: 'create-group',
      data: { name: 'Household Mwangi', members: [{ name: 'Amina Mwangi' }, { name: 'Juma Mwangi' }] },
    });
    return ev.entityGuid;
  }, appId);

  await page.reload();
  await page.evaluate(() => window.datacollect.ready);
  const found = await page.evaluate(async ({ appId, hh }) => {
    const dc = window.datacollect;
    await dc.init({ appId });
    const group = await dc.getEntity(hh);
    const members = await Promise.all(group.memberIds.map((id) => dc.getEntity(id)));
    const events = await dc.listEvents({ entityGuid: hh });
    return { group, members, events };
  }, { appId, hh });
  assert.equal(found.group.type, 'group');
  assert.equal(found.group.data.name, 'Household Mwangi');
  assert.equal(found.group.syncLevel, 'LOCAL');
  assert.deepEqual(found.members.map((m) => m.data.name).sort(), ['Amina Mwangi', 'Juma Mwangi']);
  assert.ok(found.members.every((m) => m.type === 'individual' && m.version === 1));
  assert.equal(found.events.length, 1);
  assert.equal(found.events[0].syncLevel, 'LOCAL');
  assert.deepEqual(page.errors, []);
  await ctx.close();
});

test('errors reject with a stable code and change nothing', async () => {
  const ctx = await env.browser.newContext();
  const page = await openApp(ctx, env.server.url, { bare: true }); // no demo app calling init
  const res = await page.evaluate(async () => {
    const dc = window.datacollect;
    const codeOf = (p) => p.then(() => 'resolved', (e) => (e instanceof Error ? e.code : 'not an Error'));
    const before = await codeOf(dc.listEntities());
    await dc.init({ appId: 'errors-' + Date.now() });
    const cycle = {}; cycle.self = cycle;
    return {
      before,
      noAppId: await codeOf(dc.init({})),
      unknownType: await codeOf(dc.submitForm({ type: 'launch-rocket', data: { a: 1 } })),
      emptyData: await codeOf(dc.submitForm({ type: 'create-individual', data: {} })),
      missing: await codeOf(dc.submitForm({ type: 'update-individual', entityGuid: 'nope', data: { a: 1 } })),
      cyclic: await codeOf(dc.submitForm({ type: 'create-individual', data: cycle })),
      noArg: await codeOf(dc.submitForm()),
      batch: await codeOf(dc.submitForms([
        { type: 'create-individual', data: { name: 'ok' } },
        { type: 'create-individual', data: 'not an object' },
      ])),
      badGuid: await codeOf(dc.getEntity(42)),
      count: (await dc.listEvents()).length,
    };
  });
  assert.deepEqual(res, {
    before: 'ECLOSED', noAppId: 'EINVALID', unknownType: 'EINVALID', emptyData: 'EINVALID',
    missing: 'ENOTFOUND', cyclic: 'EINVALID', noArg: 'EINVALID', batch: 'EINVALID', badGuid: 'EINVALID', count: 0,
  });
  await ctx.close();
});

test('change events and the demo page forms', async () => {
  const ctx = await env.browser.newContext();
  const bare = await openApp(ctx, env.server.url, { bare: true }); // no app calling init meanwhile
  const detail = await bare.evaluate(async () => {
    const dc = window.datacollect;
    await dc.init({ appId: 'events-' + Date.now() });
    const got = new Promise((resolve) => dc.addEventListener('change', (e) => resolve(e.detail), { once: true }));
    await dc.submitForm({ type: 'create-individual', entityGuid: 'p-1', data: { name: 'Zawadi' } });
    return got;
  });
  assert.equal(detail.entities.length, 1);
  assert.equal(detail.entities[0].guid, 'p-1');
  await bare.close();

  // The app page (app id "demo") records a household with two members through its form.
  const page = await openApp(ctx, env.server.url + '#/new/household');
  await page.getByLabel('Household name').fill('Household Otieno');
  await page.getByRole('group', { name: 'Member 1' }).getByLabel('Given name').fill('Achieng');
  await page.getByRole('group', { name: 'Member 1' }).getByLabel('Family name').fill('Otieno');
  await page.getByRole('button', { name: 'Add a member' }).click();
  await page.getByRole('group', { name: 'Member 2' }).getByLabel('Given name').fill('Odhiambo');
  await page.getByRole('group', { name: 'Member 2' }).getByLabel('Family name').fill('Otieno');
  await page.getByRole('button', { name: 'Save household' }).click();
  await page.getByRole('heading', { name: 'Household: Household Otieno' }).waitFor();
  await page.getByRole('link', { name: 'Records', exact: true }).click();
  await page.getByText('Household: Household Otieno').waitFor();
  await page.getByText('Members: Achieng Otieno, Odhiambo Otieno').waitFor();
  const stored = await page.evaluate(async () => {
    const [g] = (await window.datacollect.listEntities({ type: 'group' })).filter((e) => e.data.name === 'Household Otieno');
    return Promise.all(g.memberIds.map(async (id) => (await window.datacollect.getEntity(id)).data));
  });
  assert.deepEqual(stored, [{ givenName: 'Achieng', familyName: 'Otieno' }, { givenName: 'Odhiambo', familyName: 'Otieno' }]);
  assert.deepEqual(page.errors, []);
  await ctx.close();
});
