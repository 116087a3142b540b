// Benchmark: full sync of N events (default 10,000) device A → server → device B,
// in one headless Chromium, through the real server on SQLite. Also bytes on
// the wire per event: ours (MessagePack + gzip) against the same events as
// JSON, plain (what the reference implementation sends) and gzip-compressed.
// With --encrypt, the same sync is measured again with both devices'
// databases encrypted at rest (init({passphrase})), for the cost.
// Usage: node bench-sync.mjs [N] [--encrypt]   (after `make build`)
import { startServer, launch, openApp } from './helpers.mjs';

const N = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) || 10000);
const compareEncryption = process.argv.includes('--encrypt');
const server = await startServer();
const browser = await launch();
const login = { email: 'demo@example.org', password: 'demo-password' };
try {
  const open = async (name, passphrase) => {
    const page = await openApp(await browser.newContext(), server.url, { bare: true });
    await page.evaluate(async ({ name, login, passphrase }) => {
      await window.datacollect.init({ appId: 'demo', dbName: 'bench-sync-' + name + '-' + Date.now(), autoSync: false,
        ...(passphrase ? { passphrase } : {}) });
      await window.datacollect.login(login.email, login.password);
    }, { name, login, passphrase });
    return page;
  };
  // measure records N events on a new device A and syncs A, then a new B.
  const measure = async (passphrase) => {
  const a = await open('a', passphrase);
  const b = await open('b', passphrase);
  await a.evaluate(async (N) => {
    const dc = window.datacollect;
    for (let done = 0; done < N; done += 1000) {
      const forms = [];
      for (let i = done; i < Math.min(N, done + 1000); i++) {
        forms.push({ type: 'create-individual', data: { givenName: 'Given' + i, familyName: 'Family' + (i % 97),
          birthdate: '1990-01-01', gender: i % 2 ? 'Female' : 'Male', nationalId: 'ID' + i, phone: '+2547' + String(i).padStart(8, '0') } });
      }
      await dc.submitForms(forms);
    }
  }, N);
  const ra = await a.evaluate(async () => {
    const t = performance.now();
    const r = await window.datacollect.sync();
    return { ...r, ms: performance.now() - t };
  });
  const rb = await b.evaluate(async () => {
    const t = performance.now();
    const r = await window.datacollect.sync();
    return { ...r, ms: performance.now() - t };
  });
  return { a, b, ra, rb };
  };
  const { a, b, ra, rb } = await measure('');
  const enc = compareEncryption ? await measure('bench passphrase 1') : null;
  const json = await a.evaluate(async () => {
    const evs = await window.datacollect.listEvents();
    const gz = async (s) => (await new Response(new Blob([s]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer()).byteLength;
    let plain = 0, zipped = 0;
    for (let i = 0; i < evs.length; i += 100) {
      const s = JSON.stringify({ events: evs.slice(i, i + 100) });
      plain += s.length;
      zipped += await gz(s);
    }
    return { plain, zipped, n: evs.length };
  });
  const entitiesEqual = await (async () => {
    // Key order inside data is not part of an entity: compare sorted.
    const snap = (p) => p.evaluate(async () => JSON.stringify((await window.datacollect.listEntities())
      .map((e) => [e.guid, e.version, Object.keys(e.data).sort().map((k) => [k, e.data[k]])])));
    return (await snap(a)) === (await snap(b));
  })();
  const rate = (n, ms) => Math.round(n / ms * 1000).toLocaleString('en-US');
  console.log(`Full sync of ${N.toLocaleString('en-US')} events, device A → server (SQLite) → device B, headless Chromium\n`);
  console.log('| step | time | events/s |');
  console.log('|---|---|---|');
  console.log(`| A: push ${ra.pushed} + pull its own back (confirm) | ${(ra.ms / 1000).toFixed(2)} s | ${rate(ra.pushed, ra.ms)} |`);
  console.log(`| B: pull ${rb.pulled} | ${(rb.ms / 1000).toFixed(2)} s | ${rate(rb.pulled, rb.ms)} |`);
  console.log(`| A → server → B, end to end | ${((ra.ms + rb.ms) / 1000).toFixed(2)} s | ${rate(N, ra.ms + rb.ms)} |`);
  if (enc) {
    console.log(`| encrypted at rest: A: push ${enc.ra.pushed} + confirm | ${(enc.ra.ms / 1000).toFixed(2)} s | ${rate(enc.ra.pushed, enc.ra.ms)} |`);
    console.log(`| encrypted at rest: B: pull ${enc.rb.pulled} | ${(enc.rb.ms / 1000).toFixed(2)} s | ${rate(enc.rb.pulled, enc.rb.ms)} |`);
    // B pulls what the server holds (both runs' events): compare rates.
    const per = (r) => r.ra.ms / r.ra.pushed + r.rb.ms / r.rb.pulled;
    console.log(`| encrypted at rest, per event A + B | ${(per(enc) * 1000).toFixed(0)} µs | ${(per(enc) / per({ ra, rb })).toFixed(2)}× unencrypted |`);
  }
  console.log(`\nB's entities equal A's: ${entitiesEqual}\n`);
  console.log('Bytes on the wire per event (push body; pull answer)\n');
  console.log('| encoding | push bytes/event | pull bytes/event |');
  console.log('|---|---|---|');
  console.log(`| DataCollect MessagePack + gzip | ${(ra.bytesSent / N).toFixed(1)} | ${(rb.bytesReceived / N).toFixed(1)} |`);
  console.log(`| JSON, plain (as the reference sends) | ${(json.plain / json.n).toFixed(1)} | - |`);
  console.log(`| JSON + gzip | ${(json.zipped / json.n).toFixed(1)} | - |`);
} finally {
  await browser.close();
  await server.stop();
}
