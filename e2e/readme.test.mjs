// The README's 15-line web app, taken from README.md as it is, works: a
// person typed into its form is listed, and reaches the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { useServerAndBrowser, openApp, root } from './helpers.mjs';

const env = useServerAndBrowser();

test('the README example registers, lists and syncs a person', async () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const html = readme.match(/## Using it from a web page[\s\S]*?```html\n([\s\S]*?)```/)[1];
  assert.ok(html.split('\n').length <= 16, 'the example is about 15 lines');
  const ctx = await env.browser.newContext();
  try {
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    const url = new URL('example.html', env.server.url).href;
    await page.route(url, (route) => route.fulfill({ contentType: 'text/html', body: html }));
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('f').onsubmit, null, { timeout: 60000 }); // ready
    await page.getByLabel('Name').fill('Readme Rehema');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByText('Readme Rehema').waitFor();
    // autoSync pushes it; a second device sees it.
    const other = await openApp(ctx, env.server.url, { bare: true });
    const found = await other.evaluate(async () => {
      const dc = window.datacollect;
      await dc.init({ appId: 'demo', dbName: 'readme-other', autoSync: false });
      await dc.login('demo@example.org', 'demo-password');
      for (let i = 0; i < 100; i++) {
        await dc.sync();
        const names = (await dc.listEntities({ type: 'individual' })).map((e) => e.data.name);
        if (names.includes('Readme Rehema')) return true;
        await new Promise((r) => setTimeout(r, 200));
      }
      return false;
    });
    assert.ok(found, 'the person reached the server');
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
