// End-to-end: the installable offline web app, driven as a field worker
// would (clicks and typing) in real Chromium against the real server: a
// household registered offline, an offline reload served by the service
// worker, sync with the button, a second device, and a conflict between the
// two resolved in the dialog. Screenshots go to test-results/pwa/.
// pwa-review.test.mjs covers search, refused changes, duplicates, progress,
// the phone-sized screen and the passphrase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser } from './helpers.mjs';
import { shot, device, logIn, syncWithButton, fillPerson, openRecord } from './pwa-helpers.mjs';

const env = useServerAndBrowser();
const stamp = Date.now().toString(36);
const household = `Household Wanjiru ${stamp}`;
let A; // the first device: {ctx, page}
let B; // the second device

test('a household registered offline survives an offline reload, syncs, and reaches a second device', async () => {
  A = await device(env);
  await shot(A.page, '01-first-start');
  await logIn(A.page, '02-login');
  // The service worker controls the page once it has cached the shell (only a test can see this).
  await A.page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30000 });

  await A.ctx.setOffline(true);
  await A.page.locator('#status-chips').getByText('Offline').waitFor();
  await A.page.getByRole('navigation').getByRole('link', { name: 'New household', exact: true }).click();
  await A.page.getByLabel('Household name').fill(household);
  await A.page.getByLabel('Village').fill('Kiambu');
  const m1 = A.page.getByRole('group', { name: 'Member 1' });
  await fillPerson(m1, { given: 'Achieng', family: 'Wanjiru', birthdate: '1985-04-12', gender: 'female', nationalId: `NID-${stamp}-1`, phone: '0700 111' });
  await A.page.getByRole('button', { name: 'Add a member' }).click();
  await fillPerson(A.page.getByRole('group', { name: 'Member 2' }), { given: 'Otieno', family: 'Wanjiru', birthdate: '2012-09-01', gender: 'male' });
  await A.page.getByRole('button', { name: 'Add a member' }).click();
  await A.page.getByRole('button', { name: 'Remove member 3' }).click();
  await shot(A.page, '03-register-household');
  await A.page.getByRole('button', { name: 'Save household' }).click();
  await A.page.getByRole('heading', { name: `Household: ${household}` }).waitFor();
  await A.page.getByRole('heading', { name: 'Members (2)' }).waitFor();

  // Reload with the network off: the service worker serves the shell.
  await A.page.reload();
  await A.page.getByText(/^Ready — /).waitFor();
  await A.page.getByRole('heading', { name: `Household: ${household}` }).waitFor();
  await A.page.getByRole('link', { name: 'Achieng Wanjiru' }).waitFor();
  await A.page.locator('#status-chips').getByText('Offline').waitFor();
  await A.page.locator('#status-chips').getByText(/^[1-9]\d* waiting$/).waitFor();
  await shot(A.page, '04-household-offline');

  // Online again: sync with the button.
  await A.ctx.setOffline(false);
  await syncWithButton(A.page);
  await A.page.getByRole('navigation').getByRole('link', { name: 'Sync', exact: true }).click();
  await A.page.getByText('Last result').waitFor();
  await shot(A.page, '05-sync-status');

  // Another device logs in and receives the household.
  B = await device(env);
  await logIn(B.page);
  await openRecord(B.page, household);
  await B.page.getByRole('heading', { name: `Household: ${household}` }).waitFor();
  await B.page.getByRole('link', { name: 'Achieng Wanjiru' }).waitFor();
  await B.page.getByRole('link', { name: 'Otieno Wanjiru' }).waitFor();
  await B.page.locator('dl.fields').getByText('Kiambu').waitFor();
  assert.deepEqual([...A.page.errors, ...B.page.errors], []);
});

test('both devices edit the same phone offline; the conflict is resolved in the dialog', async () => {
  for (const d of [A, B]) {
    await openRecord(d.page, 'Achieng');
    await d.page.getByRole('heading', { name: 'Person: Achieng Wanjiru' }).waitFor();
  }
  await A.ctx.setOffline(true);
  await B.ctx.setOffline(true);
  for (const [d, phone] of [[A, '0711 AAA'], [B, '0722 BBB']]) {
    await d.page.getByRole('link', { name: 'Edit' }).click();
    await d.page.getByLabel('Phone').fill(phone);
    await d.page.getByRole('button', { name: 'Save changes' }).click();
    await d.page.getByText(phone).first().waitFor();
  }
  await A.ctx.setOffline(false);
  await syncWithButton(A.page);
  await B.ctx.setOffline(false);
  await B.page.getByRole('button', { name: 'Sync now' }).first().click();

  await B.page.getByRole('button', { name: 'Resolve conflicts' }).first().click();
  const dlg = B.page.getByRole('dialog', { name: 'Resolve conflicts' });
  const fs = dlg.getByRole('group', { name: 'Person Achieng Wanjiru: Phone' });
  await fs.getByText('0722 BBB').first().waitFor(); // this device
  await fs.getByText('0711 AAA').first().waitFor(); // the other
  await shot(B.page, '06-conflict-dialog');
  await fs.getByLabel('Another value for Phone').fill('0733 CCC');
  assert.equal(await fs.getByRole('radio', { name: 'Another value:' }).isChecked(), true);
  await dlg.getByRole('button', { name: 'Save decisions' }).click();
  await B.page.getByText('1 conflict resolved').waitFor();
  await syncWithButton(B.page);
  await syncWithButton(A.page);
  for (const d of [A, B]) {
    await openRecord(d.page, 'Achieng');
    await d.page.locator('dl.fields').getByText('0733 CCC').waitFor();
    await d.page.locator('#status-chips').getByText(/conflict/).waitFor({ state: 'detached' });
  }
  // The history shows the edits and the resolution.
  await A.page.locator('#history').getByText('Conflict resolved').first().waitFor();
  await A.page.locator('#history').getByText('Edited').first().waitFor();
  await shot(A.page, '07-person-history');
});
