// Shared steps of the web app's end-to-end tests (pwa*.test.mjs): devices as
// browser contexts, and what a person does on the page. Screenshots go to
// test-results/pwa/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { root } from './helpers.mjs';

export const login = { email: 'demo@example.org', password: 'demo-password' };
const shots = path.join(root, 'test-results', 'pwa');

// shot saves a full-page screenshot as test-results/pwa/<name>.png.
export async function shot(page, name) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
}

// device opens the app in a new browser context (a device of its own).
export async function device(env, viewport = { width: 1000, height: 900 }) {
  const ctx = await env.browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(env.server.url);
  await page.getByText(/^Ready — /).waitFor();
  return { ctx, page };
}

// logIn logs in on the Account page (screenshot first when name is given).
export async function logIn(page, name) {
  await page.getByRole('navigation').getByRole('link', { name: 'Account', exact: true }).click();
  await page.getByLabel('App ID').fill('demo');
  await page.getByLabel('Email').fill(login.email);
  await page.getByLabel('Password').fill(login.password);
  if (name) await shot(page, name);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText(`Logged in as ${login.email}`).first().waitFor();
}

// syncWithButton clicks Sync now and waits until nothing waits.
export async function syncWithButton(page) {
  await page.getByRole('button', { name: 'Sync now' }).first().click();
  await page.locator('#status-chips').getByText('0 waiting').waitFor();
  await page.locator('#status-chips').getByText('Syncing…').waitFor({ state: 'detached' });
}

// fillPerson fills a person's fields within scope (a page or a member fieldset).
export async function fillPerson(scope, p) {
  await scope.getByLabel('Given name').fill(p.given);
  if (p.family) await scope.getByLabel('Family name').fill(p.family);
  if (p.birthdate) await scope.getByLabel('Birthdate').fill(p.birthdate);
  if (p.gender) await scope.getByLabel('Gender').selectOption(p.gender);
  if (p.nationalId) await scope.getByLabel('National ID').fill(p.nationalId);
  if (p.phone) await scope.getByLabel('Phone').fill(p.phone);
}

// openRecord searches the records for text and opens the first match.
export async function openRecord(page, text) {
  await page.getByRole('navigation').getByRole('link', { name: 'Records', exact: true }).click();
  await page.getByLabel('Search').fill(text);
  await page.locator('#records a').filter({ hasText: text }).first().click();
}
