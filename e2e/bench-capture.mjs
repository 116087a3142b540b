// Benchmark P1 — local capture throughput, in one headless Chromium page:
// DataCollect's submitForm / submitForms / listEntities against raw
// IndexedDB work from plain JavaScript on the same records (an event, an
// entity and an audit entry per form, same indexes), the physical limit.
// Usage: node bench-capture.mjs   (after `make build`)
import { startServer, launch, openApp } from './helpers.mjs';

const server = await startServer();
const browser = await launch();
try {
  const page = await openApp(await browser.newContext(), server.url, { bare: true });
  const rows = await page.evaluate(async () => {
    const dc = window.datacollect;
    const form = (i) => ({
      type: 'create-individual',
      data: { givenName: 'Given' + i, familyName: 'Family' + (i % 97), birthdate: '1990-01-01',
        gender: i % 2 ? 'Female' : 'Male', nationalId: 'ID' + i, phone: '+2547' + String(i).padStart(8, '0') },
    });
    const uuid = () => crypto.randomUUID();
    const now = () => new Date().toISOString();

    // Raw IndexedDB with the same stores and indexes as the Go store.
    async function rawDB(name) {
      await new Promise((r) => { const q = indexedDB.deleteDatabase(name); q.onsuccess = q.onerror = r; });
      return new Promise((resolve, reject) => {
        const req = indexedDB.open(name, 1);
        req.onupgradeneeded = () => {
          const db = req.result;
          const ev = db.createObjectStore('events', { keyPath: 'lseq', autoIncrement: true });
          ev.createIndex('guid', 'guid', { unique: true });
          ev.createIndex('entityGuid', 'entityGuid');
          ev.createIndex('syncLevel', 'syncLevel');
          ev.createIndex('seq', 'seq');
          const en = db.createObjectStore('entities', { keyPath: 'guid' });
          en.createIndex('type', 'type');
          en.createIndex('externalId', 'externalId');
          const au = db.createObjectStore('audit', { keyPath: 'id', autoIncrement: true });
          au.createIndex('entityGuid', 'entityGuid');
        };
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    function rawPut(db, forms) {
      return new Promise((resolve, reject) => {
        const tx = db.transaction(['events', 'entities', 'audit'], 'readwrite');
        const evs = tx.objectStore('events'), ens = tx.objectStore('entities'), aus = tx.objectStore('audit');
        for (const f of forms) {
          const guid = uuid(), entityGuid = uuid(), ts = now();
          evs.add({ guid, entityGuid, type: f.type, data: f.data, timestamp: ts, userId: 'local', syncLevel: 'LOCAL', baseVersion: 0 });
          ens.add({ guid: entityGuid, type: 'individual', version: 1, data: f.data, lastUpdated: ts, syncLevel: 'LOCAL', rev: 1 });
          aus.add({ guid: guid + ':' + entityGuid, timestamp: ts, userId: 'local', action: f.type, eventGuid: guid, entityGuid,
            changes: Object.keys(f.data).sort().map((k) => ({ field: k, old: null, new: f.data[k] })) });
        }
        tx.oncomplete = resolve;
        tx.onerror = tx.onabort = () => reject(tx.error);
      });
    }
    function rawGetAll(db) {
      return new Promise((resolve, reject) => {
        const req = db.transaction('entities').objectStore('entities').index('type').getAll('individual');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    const time = async (fn) => { const t = performance.now(); await fn(); return performance.now() - t; };

    const out = [];
    const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
    // Each configuration alternates raw and DataCollect batches of the same
    // size; the rates come from the median batch time of each (IndexedDB's
    // timing on a shared machine swings from batch to batch).
    const record = (name, size, goTimes, rawTimes) => out.push({
      name, n: size * goTimes.length,
      rate: size / median(goTimes) * 1000, rawRate: size / median(rawTimes) * 1000,
    });

    const db = await rawDB('bench-raw');
    let next = 1000;
    // run measures one DataCollect configuration (label: '' or
    // ' (encrypted)') against raw IndexedDB.
    async function run(label, options) {
      await dc.init({ appId: 'bench-' + Date.now(), autoSync: false, ...options });
      for (let i = 0; i < 50; i++) { await rawPut(db, [form(i)]); await dc.submitForm(form(i)); } // warm-up
      const configs = [['submitForm, one by one', 1, 300], ['submitForms, batches of 100', 100, 40], ['submitForms, batches of 1000', 1000, 9]];
      for (const [name, size, rounds] of configs) {
        const rawTimes = [], goTimes = [];
        for (let r = 0; r < rounds; r++) {
          const batch = Array.from({ length: size }, () => form(next++));
          rawTimes.push(await time(() => rawPut(db, batch)));
          goTimes.push(await time(() => (size === 1 ? dc.submitForm(batch[0]) : dc.submitForms(batch))));
        }
        record(name + label, size, goTimes, rawTimes);
      }
      const count = (await dc.listEntities({ type: 'individual' })).length;
      const rawTimes = [], goTimes = [];
      for (let i = 0; i < 7; i++) {
        rawTimes.push(await time(() => rawGetAll(db)));
        goTimes.push(await time(() => dc.listEntities({ type: 'individual' })));
      }
      record(`listEntities (${count} entities)${label}`, count, goTimes, rawTimes);
      await dc.close();
    }
    await run('', {});
    const t0 = performance.now();
    await dc.init({ appId: 'bench-unlock-' + Date.now(), autoSync: false, passphrase: 'bench passphrase 1' });
    const unlockMs = performance.now() - t0;
    await dc.close();
    await run(' (encrypted)', { passphrase: 'bench passphrase 1' });
    out.push({ name: `init with a passphrase (PBKDF2, 600,000 iterations): ${Math.round(unlockMs)} ms` });
    db.close();
    return out;
  });

  const pad = (s, n) => String(s).padEnd(n);
  const num = (x) => (x == null ? '-' : Math.round(x).toLocaleString('en-US'));
  console.log('P1 local capture (headless Chromium, one page; rate = forms/s from the median batch time;');
  console.log('raw = plain-JS IndexedDB adds of the same event + entity + audit records, same stores and indexes)\n');
  console.log(`| ${pad('operation', 40)} | ${pad('n', 6)} | ${pad('DataCollect/s', 14)} | ${pad('raw IndexedDB/s', 15)} | ratio |`);
  console.log(`|${'-'.repeat(42)}|${'-'.repeat(8)}|${'-'.repeat(16)}|${'-'.repeat(17)}|-------|`);
  for (const r of rows) {
    if (r.rate == null) { console.log('\n' + r.name); continue; }
    const ratio = r.rawRate ? (r.rate / r.rawRate * 100).toFixed(0) + ' %' : '-';
    console.log(`| ${pad(r.name, 40)} | ${pad(r.n, 6)} | ${pad(num(r.rate), 14)} | ${pad(num(r.rawRate), 15)} | ${pad(ratio, 5)} |`);
  }
} finally {
  await browser.close();
  await server.stop();
}
