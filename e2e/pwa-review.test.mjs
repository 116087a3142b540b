// End-to-end: the web app's review screens, driven by clicks and typing in
// real Chromium against the real server: search, a record's history, a change
// refused by the server shown with its reason, fixed and retried, duplicates
// merged, the progress bar of a long sync, a phone-sized screen, and the
// optional passphrase. Screenshots go to test-results/pwa/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { useServerAndBrowser } from './helpers.mjs';
import { shot, device, logIn, syncWithButton, fillPerson, openRecord } from './pwa-helpers.mjs';

const env = useServerAndBrowser();
const stamp = Date.now().toString(36);
const household = `Household Wanjiru ${stamp}`;
let A; // a logged-in device holding the household

test('a logged-in device registers a household with members online', async () => {
  A = await device(env);
  await logIn(A.page);
  await A.page.getByRole('navigation').getByRole('link', { name: 'New household', exact: true }).click();
  await A.page.getByLabel('Household name').fill(household);
  await fillPerson(A.page.getByRole('group', { name: 'Member 1' }), { given: 'Achieng', family: 'Wanjiru', nationalId: `NID-${stamp}-1` });
  await A.page.getByRole('button', { name: 'Add a member' }).click();
  await fillPerson(A.page.getByRole('group', { name: 'Member 2' }), { given: 'Otieno', family: 'Wanjiru' });
  await A.page.getByRole('button', { name: 'Save household' }).click();
  await A.page.getByRole('heading', { name: `Household: ${household}` }).waitFor();
  await syncWithButton(A.page);
});

test('search, a refused change with its reason fixed and retried, duplicates review, mobile width', async () => {
  const page = A.page;
  // Search by national ID and by name.
  await page.getByRole('navigation').getByRole('link', { name: 'Records', exact: true }).click();
  await page.getByLabel('Search').fill(`NID-${stamp}-1`);
  await page.locator('#records li').first().getByText('Person: Achieng Wanjiru').waitFor();
  assert.equal(await page.locator('#records li').count(), 1);
  await page.getByLabel('Search').fill('wanjiru ' + stamp);
  await page.locator('#records li').getByText(`Household: ${household}`).waitFor();
  await page.getByLabel('Type').selectOption('individual');
  await page.getByText('No records').or(page.locator('#count')).first().waitFor();
  await page.getByLabel('Search').fill('wanjiru');
  await page.locator('#records').getByText('Person: Otieno Wanjiru').waitFor();
  assert.equal(await page.locator('#records').getByText('Household:').count(), 0);
  await shot(page, '08-search');

  // The server refuses the next push: a test-only route answers it with a
  // rejection of every event in it (their guids read from the MessagePack body).
  await A.ctx.route('**/api/v1/sync/push', async (route) => {
    let raw = route.request().postDataBuffer();
    if (route.request().headers()['content-encoding'] === 'gzip') raw = gunzipSync(raw);
    const guids = [...raw.toString('latin1').matchAll(/\xa4guid\xd9\x24([0-9a-f-]{36})/g)].map((m) => m[1]);
    const results = guids.map((guid) => ({ guid, status: 'rejected', code: 'EINVALID', message: 'phone: not a valid number for this district' }));
    await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ results }) });
  });
  await page.getByLabel('Type').selectOption('');
  await openRecord(page, 'Otieno');
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByLabel('Phone').fill('12');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('button', { name: 'Sync now' }).first().click();
  await page.locator('#status-chips').getByRole('link', { name: '1 refused' }).click();
  await page.getByText('Reason: EINVALID: phone: not a valid number for this district').waitFor();
  await shot(page, '09-failed-events');
  await A.ctx.unroute('**/api/v1/sync/push');
  // Fix: a corrected update, then retry.
  await page.getByRole('link', { name: 'Fix Otieno Wanjiru' }).click();
  await page.getByLabel('Phone').fill('0744 555');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Sync', exact: true }).click();
  await page.getByRole('button', { name: 'Retry refused changes' }).click();
  await page.getByText('Nothing was refused.').waitFor();
  await page.locator('#status-chips').getByText('0 waiting').waitFor();
  await openRecord(page, 'Otieno');
  await page.locator('#history').getByText('Synced').first().waitFor();
  assert.equal(await page.locator('#history').getByText('Refused by the server').count(), 0);

  // Duplicates: two people registered with one national ID.
  const nid = `DUP-${stamp}`;
  for (const given of ['Grace', 'Grayce']) {
    await page.getByRole('navigation').getByRole('link', { name: 'New person', exact: true }).click();
    await fillPerson(page, { given, family: 'Njeri', nationalId: nid, birthdate: '1990-01-01' });
    await page.getByRole('button', { name: 'Save individual' }).click();
    await page.getByRole('heading', { name: `Person: ${given} Njeri` }).waitFor();
  }
  await page.getByRole('navigation').getByRole('link', { name: 'Duplicates', exact: true }).click();
  const card = page.getByRole('region', { name: /Possible duplicates: Gra.*Njeri, Gra.*Njeri/ });
  await card.getByText(nid).first().waitFor();
  await shot(page, '10-duplicates');
  await card.getByRole('button', { name: 'Merge record 2 into record 1' }).click();
  await page.getByText(/^Merged Gra.*Njeri into Gra.*Njeri$/).waitFor();
  await page.getByText('No possible duplicates.').waitFor();

  // Progress during a long sync (pushes slowed down by a test route).
  await page.evaluate(async () => { // test-only bulk setup: 250 records
    const forms = Array.from({ length: 250 }, (_, i) => ({ type: 'create-individual', data: { givenName: 'Bulk', familyName: String(i) } }));
    await window.datacollect.submitForms(forms);
  });
  let queue = Promise.resolve(); // one push at a time, each slowed down
  await A.ctx.route('**/api/v1/sync/push', (route) => {
    queue = queue.then(() => new Promise((r) => setTimeout(r, 700))).then(() => route.continue());
    return queue;
  });
  await page.getByRole('navigation').getByRole('link', { name: 'Sync', exact: true }).click();
  await page.getByRole('button', { name: 'Sync now' }).first().click();
  const bar = page.getByRole('progressbar', { name: /Sending changes: ([1-9]\d?|1\d\d|2[0-4]\d) of 25\d/ });
  await bar.waitFor();
  await shot(page, '11-sync-progress');
  await page.locator('#status-chips').getByText('0 waiting').waitFor({ timeout: 30000 });
  await A.ctx.unroute('**/api/v1/sync/push');

  // A phone-sized screen.
  const phone = await device(env, { width: 360, height: 740 });
  await shot(phone.page, '12-mobile-first-start');
  await logIn(phone.page, '13-mobile-login');
  await openRecord(phone.page, household);
  await phone.page.getByRole('heading', { name: `Household: ${household}` }).waitFor();
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling at 360 px (overflow ${overflow}px)`);
  await shot(phone.page, '14-mobile-household');
  await phone.page.getByRole('navigation').getByRole('link', { name: 'Records', exact: true }).click();
  await phone.page.getByLabel('Search').fill('Wanjiru');
  await shot(phone.page, '15-mobile-list');
  assert.deepEqual([...A.page.errors, ...phone.page.errors], []);
});

test('optional passphrase: protect, lock, unlock', async () => {
  const d = await device(env);
  await d.page.getByRole('navigation').getByRole('link', { name: 'Account', exact: true }).click();
  await d.page.getByLabel('New passphrase').fill('correct horse');
  await d.page.getByLabel('Repeat passphrase').fill('correct horse');
  await d.page.getByRole('button', { name: 'Protect this device' }).click();
  await d.page.getByText('This device is now protected').waitFor();
  await d.page.getByRole('button', { name: 'Lock', exact: true }).click();
  await d.page.getByRole('heading', { name: 'Locked' }).waitFor();
  await d.page.getByLabel('Passphrase').fill('wrong passphrase');
  await d.page.getByRole('button', { name: 'Unlock' }).click();
  await d.page.getByText('Wrong passphrase.').waitFor();
  await shot(d.page, '16-locked');
  await d.page.getByLabel('Passphrase').fill('correct horse');
  await d.page.getByRole('button', { name: 'Unlock' }).click();
  await d.page.getByRole('heading', { name: 'Account' }).waitFor();
  // After a reload the app asks for the passphrase before showing anything.
  await d.page.reload();
  await d.page.getByRole('heading', { name: 'Locked' }).waitFor();
  await d.page.getByLabel('Passphrase').fill('correct horse');
  await d.page.getByRole('button', { name: 'Unlock' }).click();
  await d.page.getByRole('heading', { name: 'Account' }).waitFor();
  assert.deepEqual(d.page.errors, []);
  await d.ctx.close();
});

test('an expired session shows a banner and is renewed by logging in again', async () => {
  const d = await device(env);
  await logIn(d.page);
  await d.page.locator('#status-chips').getByText(/^Synced /).waitFor();
  // The server refuses the session from now on (a test-only route answers 401).
  const refuse = (route) => (route.request().url().includes('/auth/login') ? route.continue()
    : route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ code: 'EUNAUTHORIZED', message: 'token expired' }) }));
  await d.ctx.route('**/api/v1/**', refuse);
  await d.page.getByRole('navigation').getByRole('link', { name: 'New person', exact: true }).click();
  await fillPerson(d.page, { given: 'Wanjiku', family: 'Kamau' });
  await d.page.getByRole('button', { name: 'Save individual' }).click();
  await d.page.getByRole('button', { name: 'Sync now' }).first().click();
  const banner = d.page.getByRole('alert').filter({ hasText: 'Your session has expired' });
  await banner.waitFor();
  await shot(d.page, '17-session-expired');
  await d.ctx.unroute('**/api/v1/**', refuse);
  await banner.getByRole('link', { name: 'log in again' }).click();
  await d.page.getByLabel('Password').fill('demo-password');
  await d.page.getByRole('button', { name: 'Log in' }).click();
  await banner.waitFor({ state: 'detached' });
  await d.page.locator('#status-chips').getByText('0 waiting').waitFor();
  assert.deepEqual(d.page.errors, []);
  await d.ctx.close();
});
