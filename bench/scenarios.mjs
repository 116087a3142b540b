// The measured scenarios P1–P6. Each returns plain data; report.mjs turns
// the data into the table and the chart. Times are milliseconds.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { root, startServer, openDC, openPouch, median } from './lib.mjs';

const require = createRequire(import.meta.url);
const POUCH_JS = require.resolve('pouchdb/dist/pouchdb.min.js');
const login = { email: 'demo@example.org', password: 'demo-password' };

// FORMS defines, in a page, the forms every scenario records: the same six
// fields per person, as a DataCollect form and as a PouchDB document.
const FORMS = () => {
  window.benchData = (i) => ({ givenName: 'Given' + i, familyName: 'Family' + (i % 97), birthdate: '1990-01-01',
    gender: i % 2 ? 'Female' : 'Male', nationalId: 'ID' + i, phone: '+2547' + String(i).padStart(8, '0') });
  window.benchForm = (i) => ({ type: 'create-individual', data: window.benchData(i) });
  window.benchDoc = (i) => ({ _id: crypto.randomUUID(), type: 'individual', ...window.benchData(i) });
};
async function dcPage(browser, url) {
  const page = await openDC(browser, url);
  await page.evaluate(FORMS);
  return page;
}
async function pouchPage(browser, url) {
  const page = await openPouch(browser, url);
  await page.evaluate(FORMS);
  return page;
}
const closeAll = (...pages) => Promise.all(pages.map((p) => p.context().close()));

// P1: local capture, alternating batches of DataCollect, raw IndexedDB (the
// same event + entity + audit records, same stores and indexes: the
// physical limit) and PouchDB (one document per form), then the same
// DataCollect run encrypted at rest against raw IndexedDB again.
export async function p1(browser, url, { quick }) {
  const page = await dcPage(browser, url);
  await page.addScriptTag({ content: readFileSync(POUCH_JS, 'utf8') });
  const rows = await page.evaluate(async ({ quick }) => {
    const dc = window.datacollect;
    const uuid = () => crypto.randomUUID();
    const now = () => new Date().toISOString();
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
    const time = async (fn) => { const t = performance.now(); await fn(); return performance.now() - t; };
    const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
    const out = [];
    const db = await rawDB('bench-raw');
    const pouch = new PouchDB('bench-p1-' + Date.now());
    let next = 1000;
    async function run(label, options, withPouch) {
      await dc.init({ appId: 'bench-' + Date.now(), autoSync: false, ...options });
      for (let i = 0; i < 50; i++) { // warm-up
        await rawPut(db, [benchForm(i)]); await dc.submitForm(benchForm(i)); await pouch.put(benchDoc(i));
      }
      const configs = [['one by one', 1, quick ? 60 : 300], ['batches of 100', 100, quick ? 8 : 40],
        ['batches of 1000', 1000, quick ? 3 : 9]];
      for (const [name, size, rounds] of configs) {
        const t = { ours: [], raw: [], pouch: [] };
        for (let r = 0; r < rounds; r++) {
          const forms = Array.from({ length: size }, () => benchForm(next++));
          const docs = forms.map((f) => ({ _id: uuid(), type: 'individual', ...f.data }));
          t.raw.push(await time(() => rawPut(db, forms)));
          t.ours.push(await time(() => (size === 1 ? dc.submitForm(forms[0]) : dc.submitForms(forms))));
          if (withPouch) t.pouch.push(await time(() => (size === 1 ? pouch.put(docs[0]) : pouch.bulkDocs(docs))));
        }
        const rate = (xs) => (xs.length ? size / median(xs) * 1000 : null);
        out.push({ name, label, size, n: size * rounds, ours: rate(t.ours), raw: rate(t.raw), pouch: rate(t.pouch) });
      }
      await dc.close();
    }
    await run('', {}, true);
    await run('encrypted', { passphrase: 'bench passphrase 1' }, false);
    db.close();
    await pouch.destroy();
    return out;
  }, { quick });
  await closeAll(page);
  return rows;
}

// fillDC records forms [from, to) on a DataCollect page in batches of 1,000.
const fillDC = (page, from, to) => page.evaluate(async ({ from, to }) => {
  for (let i = from; i < to; i += 1000) {
    const forms = [];
    for (let j = i; j < Math.min(to, i + 1000); j++) forms.push(benchForm(j));
    await window.datacollect.submitForms(forms);
  }
}, { from, to });
const fillPouch = (page, name, from, to) => page.evaluate(async ({ name, from, to }) => {
  const db = new PouchDB(name);
  for (let i = from; i < to; i += 1000) {
    const docs = [];
    for (let j = i; j < Math.min(to, i + 1000); j++) docs.push(benchDoc(j));
    await db.bulkDocs(docs);
  }
}, { name, from, to });
const dcSync = (page) => page.evaluate(async () => {
  const t = performance.now();
  const r = await window.datacollect.sync();
  return { ...r, ms: performance.now() - t };
});
const dcInit = (page, name) => page.evaluate(async ({ name, login }) => {
  await window.datacollect.init({ appId: 'demo', dbName: name + '-' + Date.now(), autoSync: false });
  await window.datacollect.login(login.email, login.password);
}, { name, login });
// pouchReplicate runs one one-shot PouchDB.replicate(from, to) in the page.
const pouchReplicate = (page, from, to) => page.evaluate(async ({ from, to }) => {
  const t = performance.now();
  const r = await PouchDB.replicate(from, to, { batch_size: 100 });
  return { docs: r.docs_written, ms: performance.now() - t };
}, { from, to });
const pouchBytes = async (pouchURL) => (await fetch(pouchURL + '/_bench/bytes')).json();

// fullDC: N events recorded on a new device A, A syncs (push, then pull its
// own back as the confirmation), then a new device B syncs (pulls all N).
export async function fullDC(browser, N, { envelope = 'required', json = false } = {}) {
  const server = await startServer(['-envelope', envelope]);
  try {
    const a = await dcPage(browser, server.url), b = await dcPage(browser, server.url);
    await dcInit(a, 'full-a'); await dcInit(b, 'full-b');
    await fillDC(a, 0, N);
    const ra = await dcSync(a), rb = await dcSync(b);
    const out = { N, envelope, a: ra, b: rb, ms: ra.ms + rb.ms };
    if (json) {
      // The same events as the reference system's JSON, in pushes of 100.
      out.json = await a.evaluate(async () => {
        const evs = await window.datacollect.listEvents();
        const gz = async (s) => (await new Response(new Blob([s]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer()).byteLength;
        let plain = 0, zipped = 0;
        for (let i = 0; i < evs.length; i += 100) {
          const s = JSON.stringify({ events: evs.slice(i, i + 100) });
          plain += new TextEncoder().encode(s).length;
          zipped += await gz(s);
        }
        return { plain, zipped, n: evs.length };
      });
      const snap = (p) => p.evaluate(async () => JSON.stringify((await window.datacollect.listEntities())
        .map((e) => [e.guid, e.version, Object.keys(e.data).sort().map((k) => [k, e.data[k]])])));
      out.equal = (await snap(a)) === (await snap(b));
    }
    await closeAll(a, b);
    return out;
  } finally {
    await server.stop();
  }
}

// fullPouch: N documents in a new PouchDB A, replicated A → express-pouchdb
// (a new database), then the server → a new PouchDB B.
export async function fullPouch(browser, pouchURL, N) {
  const page = await pouchPage(browser, pouchURL);
  const tag = `${N}-${Date.now()}`;
  const A = 'full-a-' + tag, B = 'full-b-' + tag, remote = `${pouchURL}/db/full-${tag}`;
  await fillPouch(page, A, 0, N);
  await pouchBytes(pouchURL);
  const ra = await pouchReplicate(page, A, remote);
  ra.bytes = await pouchBytes(pouchURL);
  const rb = await pouchReplicate(page, remote, B);
  rb.bytes = await pouchBytes(pouchURL);
  const count = await page.evaluate((B) => new PouchDB(B).info().then((i) => i.doc_count), B);
  if (count !== N) throw new Error(`PouchDB B holds ${count} documents, want ${N}`);
  await closeAll(page);
  return { N, a: ra, b: rb, ms: ra.ms + rb.ms };
}

// incrementalDC: a device whose store and the server's both hold `n`
// events (for each n of sizes, growing) records 10 new events and syncs:
// pushes them and pulls the round back. Median of `rounds`. A size whose
// projected build time (from the last build's rate) passes budgetS is
// skipped and returned as {n, skipped}.
export async function incrementalDC(browser, sizes, { rounds = 3, budgetS = 300 } = {}) {
  const server = await startServer();
  const out = [];
  try {
    const a = await dcPage(browser, server.url);
    await dcInit(a, 'inc-a');
    let have = 0, extra = 10 ** 9, perEvent = 0;
    for (const n of sizes) {
      const projected = perEvent * (n - have) / 1000;
      if (projected > budgetS) { out.push({ n, skipped: projected }); continue; }
      const t = Date.now();
      await fillDC(a, have, n);
      const s = await dcSync(a);
      if (s.pushed !== n - have) throw new Error(`incremental build: pushed ${s.pushed}`);
      perEvent = (Date.now() - t) / (n - have); have = n;
      const times = [];
      for (let r = 0; r < rounds; r++) {
        await fillDC(a, extra, extra + 10); extra += 10;
        const ra = await dcSync(a);
        if (ra.pushed !== 10) throw new Error(`incremental: pushed ${ra.pushed}`);
        times.push(ra.ms);
      }
      out.push({ n, ms: median(times), build: perEvent * n });
    }
    await closeAll(a);
    return out;
  } finally {
    await server.stop();
  }
}

// incrementalPouch is the same with PouchDB: one-shot PouchDB.sync (both
// ways) between the device's database and express-pouchdb.
export async function incrementalPouch(browser, pouchURL, sizes, { rounds = 3, budgetS = 300 } = {}) {
  const page = await pouchPage(browser, pouchURL);
  const tag = Date.now();
  const A = 'inc-a-' + tag, remote = `${pouchURL}/db/inc-${tag}`;
  const sync = () => page.evaluate(async ({ A, remote }) => {
    const t = performance.now();
    const r = await PouchDB.sync(A, remote, { batch_size: 100 });
    return { pushed: r.push.docs_written, pulled: r.pull.docs_written, ms: performance.now() - t };
  }, { A, remote });
  const out = [];
  let have = 0, extra = 10 ** 9, perEvent = 0;
  for (const n of sizes) {
    const projected = perEvent * (n - have) / 1000;
    if (projected > budgetS) { out.push({ n, skipped: projected }); continue; }
    const t = Date.now();
    await fillPouch(page, A, have, n);
    const s = await sync();
    if (s.pushed !== n - have) throw new Error(`pouch incremental build: pushed ${s.pushed}`);
    perEvent = (Date.now() - t) / (n - have); have = n;
    const times = [];
    for (let r = 0; r < rounds; r++) {
      await fillPouch(page, A, extra, extra + 10); extra += 10;
      const ra = await sync();
      if (ra.pushed !== 10) throw new Error(`pouch incremental: pushed ${ra.pushed}`);
      times.push(ra.ms);
    }
    out.push({ n, ms: median(times), build: perEvent * n });
  }
  await closeAll(page);
  return out;
}

// ingestGo runs the Go BenchmarkIngest (50 clients, batches of 100, SQLite
// and PostgreSQL) and parses its events/s, p50 and p99.
export async function ingestGo() {
  const { stdout } = await promisify(execFile)(process.env.GO || 'go',
    ['test', '-run', '^$', '-bench', 'Ingest', '-benchtime', '200x', './integration/'],
    { cwd: root, env: { ...process.env, DATACOLLECT_REQUIRE_POSTGRES: '1' }, maxBuffer: 1 << 24 });
  const out = {};
  for (const line of stdout.split('\n')) {
    const m = line.match(/^BenchmarkIngest\/(\w+)\S*\s+\d+\s+(.*)$/);
    if (!m) continue;
    const metric = (unit) => Number((m[2].match(new RegExp(`([\\d.e+]+) ${unit}`)) || [])[1]);
    out[m[1]] = { rate: metric('events/s'), p50: metric('p50-ms'), p99: metric('p99-ms') };
  }
  if (!out.sqlite || !out.postgres) throw new Error('BenchmarkIngest output not understood:\n' + stdout);
  return out;
}

// ingestPouch is the same load against express-pouchdb: 50 concurrent
// clients (fetch, from this process) POSTing _bulk_docs of 100 new
// documents, 4 each, into one database.
export async function ingestPouch(pouchURL, clients = 50, per = 4, batch = 100) {
  const db = `${pouchURL}/db/ingest-${Date.now()}`;
  await fetch(db, { method: 'PUT' });
  const lat = [];
  let n = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; i < per; i++) {
      const docs = Array.from({ length: batch }, (_, j) => ({ _id: `p-c${c}-${i}-${j}`, type: 'individual',
        givenName: 'Given', familyName: 'Family', nationalId: `c${c}-${i}-${j}`, birthdate: '1990-01-01' }));
      const t = performance.now();
      const res = await fetch(db + '/_bulk_docs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ docs }) });
      const body = await res.json();
      lat.push(performance.now() - t);
      if (res.status !== 201 || body.length !== batch || body.some((r) => !r.ok)) throw new Error('pouch ingest: ' + res.status);
      n += batch;
    }
  }));
  const s = performance.now() - t0;
  lat.sort((x, y) => x - y);
  const pct = (p) => lat[Math.floor(p * (lat.length - 1))];
  return { rate: n / s * 1000, p50: pct(0.5), p99: pct(0.99) };
}

// payload: the client's download, raw, gzip -9 and brotli (max quality),
// and from navigation to ready (DataCollect: wasm fetched, compiled, Go
// runtime started; PouchDB: script run and a database opened), new context
// (cold HTTP cache) each time, median of `loads`.
export async function payload(browser, url, pouchURL, loads = 5) {
  const size = (file) => {
    const b = readFileSync(file);
    return { raw: b.length, gzip: zlib.gzipSync(b, { level: 9 }).length,
      brotli: zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length };
  };
  const ours = size(path.join(root, 'web', 'datacollect.wasm'));
  const loader = ['wasm_exec.js', 'web/datacollect.js'].map((f) => size(path.join(root, f)));
  for (const l of loader) for (const k of Object.keys(ours)) ours[k] += l[k];
  const pouch = size(POUCH_JS);
  const readyOurs = [], readyPouch = [];
  for (let i = 0; i < loads; i++) {
    const p = await openDC(browser, url);
    readyOurs.push(await p.evaluate(() => window.readyAt));
    await closeAll(p);
    const q = await openPouch(browser, pouchURL, { timeReady: true });
    await q.waitForFunction(() => window.readyAt);
    readyPouch.push(await q.evaluate(() => window.readyAt));
    await closeAll(q);
  }
  return { ours: { ...ours, ready: median(readyOurs) }, pouch: { ...pouch, ready: median(readyPouch) } };
}
