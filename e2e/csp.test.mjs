// End-to-end: the real app page runs under the server's strict
// Content-Security-Policy: the wasm client loads ('wasm-unsafe-eval'), the
// demo forms work, and the browser reports no violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser } from './helpers.mjs';

const env = useServerAndBrowser();

test('the app works under the Content-Security-Policy', async () => {
  const ctx = await env.browser.newContext();
  const page = await ctx.newPage();
  const messages = [];
  page.on('console', (m) => messages.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));

  const resp = await page.goto(env.server.url);
  assert.equal(resp.status(), 200);
  const h = resp.headers();
  const csp = h['content-security-policy'] ?? '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'(;|$)/);
  assert.doesNotMatch(csp, /'unsafe-eval'|'unsafe-inline'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(h['x-content-type-options'], 'nosniff');
  assert.equal(h['x-frame-options'], 'DENY');
  assert.equal(h['referrer-policy'], 'no-referrer');
  assert.equal(h['cross-origin-opener-policy'], 'same-origin');

  // The wasm client runs under the policy.
  await page.evaluate(() => window.datacollect.ready);
  await page.getByText('Ready — working offline').waitFor();

  // The demo page's individual form records a person.
  const given = 'Ada-' + Date.now();
  await page.getByLabel('Given name').fill(given);
  await page.getByLabel('Family name').fill('Lovelace');
  await page.getByLabel('National ID').fill('CSP 1');
  await page.getByRole('button', { name: 'Save individual' }).click();
  await page.getByText(`Person: ${given} Lovelace`).waitFor();
  const stored = await page.evaluate(async (given) => {
    const all = await window.datacollect.listEntities({ type: 'individual' });
    return all.filter((e) => e.data.givenName === given).map((e) => e.data);
  }, given);
  assert.deepEqual(stored, [{ givenName: given, familyName: 'Lovelace', nationalId: 'CSP 1' }]);

  const cspMessages = () => messages.filter((m) => m.includes('Content Security Policy'));
  assert.deepEqual(cspMessages(), []);
  assert.deepEqual(messages.filter((m) => m.startsWith('pageerror')), []);

  // An inline script is refused: the policy is enforced, not just sent,
  // and a violation does show up in the console.
  const inline = await page.evaluate(() => new Promise((resolve) => {
    document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true });
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.body.append(s);
    setTimeout(() => resolve(window.__inlineRan ? 'ran' : 'no event'), 2000);
  }));
  assert.match(inline, /^script-src/);
  for (let i = 0; i < 40 && cspMessages().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(cspMessages().length, 1, messages.join('\n'));
  messages.splice(0);

  // Nothing else on the page broke the policy: reload and use it again.
  await page.reload();
  await page.evaluate(() => window.datacollect.ready);
  await page.getByText(`Person: ${given} Lovelace`).waitFor();
  assert.deepEqual(messages.filter((m) => m.includes('Content Security Policy') || m.startsWith('pageerror')), []);
  await ctx.close();
});
