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
    const record = (name, n, ms, rawMs) => out.push({ name, n, ms, rate: n / ms * 1000, rawRate: rawMs ? n / rawMs * 1000 : null });

    for (const rep of [1, 2]) { // the first round warms up JIT and IndexedDB
      out.length = 0;
      const db = await rawDB('bench-raw-' + rep);
      await dc.init({ appId: 'bench-' + rep + '-' + Date.now() });

      const one = 300;
      const rawOne = await time(async () => { for (let i = 0; i < one; i++) await rawPut(db, [form(i)]); });
      const goOne = await time(async () => { for (let i = 0; i < one; i++) await dc.submitForm(form(i)); });
      record('submitForm, one by one', one, goOne, rawOne);

      for (const size of [100, 1000]) {
        const batches = size === 100 ? 20 : 4;
        const fs = Array.from({ length: batches }, (_, b) => Array.from({ length: size }, (_, i) => form(b * size + i)));
        let rawMs = 0, goMs = 0;
        for (const batch of fs) {
          rawMs += await time(() => rawPut(db, batch));
          goMs += await time(() => dc.submitForms(batch));
        }
        record(`submitForms, batches of ${size}`, size * batches, goMs, rawMs);
      }

      const count = (await dc.listEntities({ type: 'individual' })).length;
      let rawMs = 0, goMs = 0;
      for (let i = 0; i < 5; i++) {
        rawMs += await time(() => rawGetAll(db));
        goMs += await time(() => dc.listEntities({ type: 'individual' }));
      }
      record(`listEntities (${count} entities)`, count * 5, goMs, rawMs);
      db.close();
      await dc.close();
    }
    return out;
  });

  const pad = (s, n) => String(s).padEnd(n);
  const num = (x) => (x == null ? '-' : Math.round(x).toLocaleString('en-US'));
  console.log('P1 local capture (headless Chromium, one page; rate = records/s)\n');
  console.log(`| ${pad('operation', 40)} | ${pad('n', 6)} | ${pad('DataCollect/s', 14)} | ${pad('raw IndexedDB/s', 15)} | ratio |`);
  console.log(`|${'-'.repeat(42)}|${'-'.repeat(8)}|${'-'.repeat(16)}|${'-'.repeat(17)}|-------|`);
  for (const r of rows) {
    const ratio = r.rawRate ? (r.rate / r.rawRate * 100).toFixed(0) + ' %' : '-';
    console.log(`| ${pad(r.name, 40)} | ${pad(r.n, 6)} | ${pad(num(r.rate), 14)} | ${pad(num(r.rawRate), 15)} | ${pad(ratio, 5)} |`);
  }
} finally {
  await browser.close();
  await server.stop();
}
