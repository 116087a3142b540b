// Encryption at rest, end to end in Chromium: with init({passphrase}) the
// records a field worker captures are never in IndexedDB in clear, yet
// they sync to the server and to another device; a wrong passphrase,
// tampered ciphertext and lock() are refused with ECRYPTO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { useServerAndBrowser, openApp } from './helpers.mjs';

const env = useServerAndBrowser();
const login = { email: 'demo@example.org', password: 'demo-password' };
const passphrase = 'river stone 4 lantern';
const marker = 'MARKER-Wanjiru-5521';

const dc = (page, method, ...args) =>
  page.evaluate(({ method, args }) => window.datacollect[method](...args), { method, args });

// failure runs method and returns the rejection's code ('' if it resolved).
const failure = (page, method, ...args) =>
  page.evaluate(async ({ method, args }) => {
    try { await window.datacollect[method](...args); return ''; } catch (e) { return e.code || String(e); }
  }, { method, args });

// dump returns every key, string field and byte of the database dbName as
// one string (bytes as Latin-1), read with IndexedDB directly.
const dump = (page, dbName) => page.evaluate(async (dbName) => {
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open(dbName);
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  const text = (v) => {
    if (v instanceof Uint8Array || v instanceof ArrayBuffer) {
      const b = new Uint8Array(v);
      let s = '';
      for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
      return s;
    }
    if (v && typeof v === 'object') return Object.entries(v).map(([k, x]) => k + ':' + text(x)).join('|');
    return String(v);
  };
  let out = '';
  for (const name of db.objectStoreNames) {
    const st = db.transaction(name).objectStore(name);
    const [keys, vals] = await Promise.all(['getAllKeys', 'getAll'].map((m) => new Promise((ok) => {
      const r = st[m]();
      r.onsuccess = () => ok(r.result);
    })));
    keys.forEach((k, i) => { out += `\n${name} ${text(k)} ${text(vals[i])}`; });
  }
  db.close();
  return out;
}, dbName);

// tamper flips a bit of the entity guid's stored ciphertext.
const tamper = (page, dbName, guid) => page.evaluate(async ({ dbName, guid }) => {
  const db = await new Promise((ok) => { const r = indexedDB.open(dbName); r.onsuccess = () => ok(r.result); });
  const st = db.transaction('entities', 'readwrite').objectStore('entities');
  await new Promise((ok) => {
    const r = st.get(guid);
    r.onsuccess = () => {
      const rec = r.result;
      rec.p = new Uint8Array(rec.p);
      rec.p[rec.p.length - 5] ^= 1;
      st.put(rec).onsuccess = ok;
    };
  });
  db.close();
}, { dbName, guid });

test('a passphrase keeps IndexedDB free of plaintext; data still syncs; wrong passphrase, tampering and lock are refused', async () => {
  const ctxA = await env.browser.newContext();
  const ctxB = await env.browser.newContext();
  try {
    // What a sniffer inside TLS would see: the push bodies and pull answers.
    const wire = [];
    await ctxA.route(/\/api\/v1\/sync\/(push|pull)/, async (route) => {
      const req = route.request();
      let body = req.postDataBuffer() || Buffer.alloc(0);
      if (req.headers()['content-encoding'] === 'gzip') body = gunzipSync(body);
      const resp = await route.fetch();
      wire.push(body, await resp.body());
      return route.fulfill({ response: resp });
    });
    const a = await openApp(ctxA, env.server.url, { bare: true });
    const dbName = `atrest-${Date.now()}`;
    const init = await dc(a, 'init', { appId: 'demo', dbName, autoSync: false, passphrase });
    assert.equal(init.encrypted, true);
    await dc(a, 'login', login.email, login.password);
    const ev = await dc(a, 'submitForm', { type: 'create-individual', data: { name: marker, nationalId: 'KE 7741' } });
    const guid = ev.entityGuid;
    const r = await dc(a, 'sync');
    assert.equal(r.failed, 0);
    assert.equal((await dc(a, 'status')).pendingEvents, 0);

    // Everything is there, nothing in clear: not the name, not the
    // national id (nor the duplicate key made of it), not the session.
    const raw = await dump(a, dbName);
    assert.ok(raw.includes(guid), 'the dump does read the records');
    for (const secret of [marker, 'Wanjiru', 'KE 7741', 'ke 7741', login.email]) {
      assert.ok(!raw.includes(secret), `IndexedDB holds "${secret}" in clear`);
    }

    // On the wire the event's data travelled sealed (the envelope).
    const sniffed = Buffer.concat(wire).toString('latin1');
    assert.ok(sniffed.includes(guid), 'the sniffer saw the sync traffic');
    const at = sniffed.indexOf(marker);
    assert.ok(at < 0 && !sniffed.includes('KE 7741'), 'event data in clear on the wire: ' + JSON.stringify(sniffed.slice(Math.max(0, at - 300), at + 100)));

    // Another device (no passphrase) receives it.
    const b = await openApp(ctxB, env.server.url, { bare: true });
    await dc(b, 'init', { appId: 'demo', dbName: `atrest-b-${Date.now()}`, autoSync: false });
    await dc(b, 'login', login.email, login.password);
    await dc(b, 'sync');
    assert.equal((await dc(b, 'getEntity', guid)).data.name, marker);

    // lock() forgets the key.
    await dc(a, 'lock');
    assert.equal(await failure(a, 'getEntity', guid), 'ECRYPTO');
    assert.equal(await failure(a, 'unlock', 'not the passphrase'), 'ECRYPTO');
    await dc(a, 'unlock', passphrase);
    assert.equal((await dc(a, 'getEntity', guid)).data.name, marker);

    // A wrong passphrase, or none, opens nothing and changes nothing.
    await dc(a, 'close');
    const before = await dump(a, dbName);
    assert.equal(await failure(a, 'init', { appId: 'demo', dbName, autoSync: false, passphrase: 'river stone 4 lanterns' }), 'ECRYPTO');
    assert.equal(await failure(a, 'init', { appId: 'demo', dbName, autoSync: false }), 'ECRYPTO');
    assert.equal(await dump(a, dbName), before);

    // Tampered ciphertext is refused.
    await dc(a, 'init', { appId: 'demo', dbName, autoSync: false, passphrase });
    await tamper(a, dbName, guid);
    assert.equal(await failure(a, 'getEntity', guid), 'ECRYPTO');
    await dc(a, 'close');
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});
