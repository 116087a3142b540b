// Benchmark of the sync lifecycle in one headless Chromium, against the real
// server: what status() costs as pending events pile up, what automatic
// syncing costs a field worker recording forms one by one, and how long a
// device takes from the network returning to being synced.
// bench.mjs runs it after the main table; lifecycle() resolves to rows
// [measure, time, note].
import { startServer, openDC } from './lib.mjs';

const login = { email: 'demo@example.org', password: 'demo-password' };

export async function lifecycle(browser) {
  const server = await startServer();
  const rows = [];
  try {
    const page = await openDC(browser, server.url);
    const ctx = page.context();
    const form = (i) => ({ type: 'create-individual', data: { givenName: 'G' + i, familyName: 'F' + (i % 97), nationalId: 'N' + i } });
    await page.exposeFunction('makeForms', (from, n) => Array.from({ length: n }, (_, k) => form(from + k)));

    // status() with 0, 1,000 and 10,000 pending events (autoSync off).
    const status = await page.evaluate(async () => {
      const dc = window.datacollect;
      await dc.init({ appId: 'demo', dbName: 'bench-life-status-' + Date.now(), autoSync: false });
      const out = [];
      const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
      let have = 0;
      for (let i = 0; i < 10; i++) await dc.status(); // warm up
      for (const n of [0, 1000, 10000]) {
        for (; have < n; have += 1000) await dc.submitForms(await window.makeForms(have, 1000));
        const times = [];
        for (let i = 0; i < 21; i++) {
          const t0 = performance.now();
          const st = await dc.status();
          times.push(performance.now() - t0);
          if (st.pendingEvents !== n) throw new Error('pending ' + st.pendingEvents);
        }
        out.push({ n, ms: median(times) });
      }
      return out;
    });
    for (const s of status) rows.push([`status() with ${s.n.toLocaleString('en')} pending`, s.ms.toFixed(2) + ' ms', 'median of 21']);

    // submitForm one by one, autoSync off vs on (logged in: debounced syncs run meanwhile).
    const capture = await page.evaluate(async ({ login }) => {
      const dc = window.datacollect;
      const out = { false: Infinity, true: Infinity };
      // Alternate the modes and keep each one's best run (the first runs warm up the JIT).
      for (const auto of [false, true, false, true]) {
        await dc.init({ appId: 'demo', dbName: 'bench-life-capture-' + auto + '-' + Date.now(), autoSync: auto, debounceMs: 200 });
        await dc.login(login.email, login.password);
        const forms = await window.makeForms(0, 500);
        const t0 = performance.now();
        for (const f of forms) await dc.submitForm(f);
        out[auto] = Math.min(out[auto], performance.now() - t0);
        if (auto) {
          const t1 = performance.now();
          while ((await dc.status()).pendingEvents > 0) await new Promise((r) => setTimeout(r, 20));
          out.drain = performance.now() - t1;
        }
      }
      return out;
    }, { login });
    rows.push(['500 × submitForm, autoSync off (best of 2)', capture.false.toFixed(0) + ' ms', (500000 / capture.false).toFixed(0) + ' forms/s']);
    rows.push(['500 × submitForm, autoSync on (best of 2)', capture.true.toFixed(0) + ' ms',
      (500000 / capture.true).toFixed(0) + ` forms/s (${(capture.true / capture.false).toFixed(2)}× off); then synced in ${capture.drain.toFixed(0)} ms`]);

    // Offline → 1,000 records → online: time to everything synced.
    await page.evaluate(async () => {
      const dc = window.datacollect;
      await dc.init({ appId: 'demo', dbName: 'bench-life-online-' + Date.now(), debounceMs: 100 });
    });
    await page.evaluate(({ login }) => window.datacollect.login(login.email, login.password), { login });
    await ctx.setOffline(true);
    await page.evaluate(async () => {
      const dc = window.datacollect;
      while ((await dc.status()).online) await new Promise((r) => setTimeout(r, 10));
      await dc.submitForms(await window.makeForms(0, 1000));
      window.syncedAt = new Promise((resolve) => dc.addEventListener('sync', (e) => {
        if (!e.detail.error && e.detail.result.pushed > 0) resolve(performance.now());
      }));
    });
    const t0 = await page.evaluate(() => performance.now());
    await ctx.setOffline(false);
    const t1 = await page.evaluate(() => window.syncedAt);
    rows.push(['offline, 1,000 records, online → synced', (t1 - t0).toFixed(0) + ' ms', 'from the online event to the sync event']);
    await ctx.close();
  } finally {
    await server.stop();
  }
  return rows;
}
