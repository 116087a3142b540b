// The chaos harness: N devices (Playwright contexts, one IndexedDB each)
// record events while syncing by themselves through a fault-injecting proxy
// (bin/chaosproxy) in front of the real server (SQLite); meanwhile the
// server is killed (SIGKILL) mid-push and restarted, and a tab is reloaded
// mid-sync. Then faults go off, every device syncs until quiet, and the
// harness proves that nothing was lost, duplicated or diverged.
//
//   node chaos.mjs [--devices 5] [--events 2000] [--faults 0.2] [--seed 1]
//                  [--restarts 2] [--reloads 1] [--timeout-min 30] [--pace-ms 20]
//                  [--token-ttl 15m] [--sabotage]
//
// Exit status 0 only when every count is zero and nothing failed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { root, launch, openApp } from './helpers.mjs';
import { installChaosPage } from './chaos-page.mjs';

const { values: argv } = parseArgs({
  options: {
    devices: { type: 'string', default: '5' },
    events: { type: 'string', default: '2000' },
    faults: { type: 'string', default: '0.2' },
    seed: { type: 'string', default: '1' },
    restarts: { type: 'string', default: '2' },
    reloads: { type: 'string', default: '1' },
    'timeout-min': { type: 'string', default: '30' },
    'pace-ms': { type: 'string', default: '20' },
    // The server's access-token lifetime (serve -token-ttl): short, it makes
    // the devices refresh their session through the faults.
    'token-ttl': { type: 'string', default: '' },
    // Self-test of the checks: after the quiet phase device 0 records one
    // event that it does not sync, unknown to the harness; the run must
    // then fail.
    sabotage: { type: 'boolean', default: false },
  },
});
const N = Number(argv.devices);
const EVENTS = Number(argv.events);
const FAULTS = Number(argv.faults);
const SEED = Number(argv.seed);
const RESTARTS = Number(argv.restarts);
const RELOADS = Number(argv.reloads);
const PACE = Number(argv['pace-ms']);
const deadline = Date.now() + Number(argv['timeout-min']) * 60000;
const login = { email: 'demo@example.org', password: 'demo-password' };
const STEP = 10; // events per page.evaluate
// Short lifecycle settings, so that the devices sync while they record;
// retries never give up (maxRetries), so only the harness decides when to stop.
const initOpts = {
  autoSync: true, debounceMs: 150, pollMinMs: 500, pollMaxMs: 2000,
  retryBaseMs: 100, retryMaxMs: 1500, maxRetries: 1000000, batchSize: 50, pageSize: 200,
};

const t0 = Date.now();
const work = mkdtempSync(path.join(tmpdir(), 'dc-chaos-'));
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFor polls fn until it answers truthy; every wait on a condition goes
// through it (fixed sleeps only pace the workload).
async function waitFor(fn, what, timeout = 60000, every = 50) {
  const end = Math.min(Date.now() + timeout, deadline);
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    await sleep(every);
  }
  throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.stack : JSON.stringify(last)}`);
}

// within rejects when p does not settle within ms: a stuck device is an
// error, never a hang.
function within(p, ms, what) {
  let timer;
  return Promise.race([p, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stuck: ${what} did not finish within ${ms / 1000} s`)), ms);
  })]).finally(() => clearTimeout(timer));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// spawnLogged starts a process, appends its output to logs[name] and
// resolves once a stdout line matches re.
function spawnLogged(name, bin, args, re, logs) {
  const proc = spawn(bin, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  logs[name] = logs[name] || '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${logs[name].slice(-3000)}`)), 20000);
    let out = '';
    proc.stdout.on('data', (d) => {
      logs[name] += d; out += d;
      const m = out.match(re);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.stderr.on('data', (d) => { logs[name] += d; });
    proc.on('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`${name} exited ${code ?? sig}:\n${logs[name].slice(-3000)}`)); });
  });
  return { proc, ready };
}

const logs = {};
const port = await freePort();
const serverURL = `http://127.0.0.1:${port}`;
const dbPath = path.join(work, 'datacollect.db');
let server = null;

async function startServer() {
  const s = spawnLogged('server', path.join(root, 'bin', 'datacollect-server'),
    ['serve', '-addr', `127.0.0.1:${port}`, '-web', root, '-demo', '-db', dbPath,
      ...(argv['token-ttl'] ? ['-token-ttl', argv['token-ttl']] : [])], /running at (http:\/\/\S+)/, logs);
  server = s.proc;
  await s.ready;
}

function killServer() {
  return new Promise((resolve) => {
    if (server.exitCode !== null || server.signalCode !== null) return resolve();
    server.once('exit', resolve);
    server.kill('SIGKILL');
  });
}

// The proxy.
const proxyBin = path.join(root, 'bin', 'chaosproxy');
const px = spawnLogged('proxy', proxyBin, ['-addr', '127.0.0.1:0', '-target', serverURL,
  '-faults', String(FAULTS), '-seed', String(SEED), '-max-delay', '800ms'], /listening on (http:\/\/\S+?)\s/, logs);
const proxy = px.proc;

const proxyGet = async (p, method = 'GET') => (await fetch(proxyURL + p, { method })).json();

let browser = null;
let proxyURL = '';
const report = {
  devices: N, eventsPerDevice: EVENTS, recorded: 0, refusedLocally: 0, faults: {}, upstreamErrors: 0,
  mix: {}, restarts: 0, restartsMidPush: 0, reloads: 0, relogins: 0, lost: 0, duplicated: 0, diverged: 0, rejected: 0,
  errors: [],
};
const devices = [];

try {
  await startServer();
  proxyURL = (await px.ready).replace(/\/?$/, '/');
  log(`server ${serverURL} (db ${dbPath}), proxy ${proxyURL}, faults ${FAULTS}, seed ${SEED}`);
  browser = await launch();

  // ---- devices ----
  async function openDevice(d) {
    if (!d.installed) { await d.ctx.addInitScript(installChaosPage); d.installed = true; }
    const page = await openApp(d.ctx, proxyURL, { bare: true });
    page.on('pageerror', (e) => report.errors.push(`device ${d.i} page error: ${e.message}`));
    const r = await page.evaluate((a) => window.chaosInit(a),
      { dbName: d.dbName, seed: SEED * 1000 + d.i, own: d.own, opts: initOpts, login });
    d.page = page;
    return r;
  }

  // ensureLogin logs the device in (again), retrying through the faults.
  async function ensureLogin(d) {
    await waitFor(() => d.page.evaluate(async (l) => {
      const dc = window.datacollect;
      if ((await dc.session()) && !(await dc.status()).authRequired) return true;
      return dc.login(l.email, l.password).then(() => true, () => false);
    }, login), `device ${d.i} login`, 120000, 300);
  }

  for (let i = 0; i < N; i++) {
    const d = { i, dbName: `chaos-${SEED}-${i}`, own: [], guids: [], done: 0, reloadReq: false, ctx: await browser.newContext() };
    await openDevice(d);
    await ensureLogin(d);
    devices.push(d);
  }
  log(`${N} devices logged in`);

  // reload reloads d's tab while it syncs; the device must carry on with its
  // kept session.
  async function reload(d) {
    const inflight = d.page.waitForRequest((r) => /\/api\/v1\/sync\/(push|pull)/.test(r.url()), { timeout: 30000 });
    await d.page.evaluate(() => { window.datacollect.sync().catch(() => {}); });
    await inflight;
    await d.page.reload();
    await d.page.evaluate(() => window.datacollect.ready);
    const r = await d.page.evaluate((a) => window.chaosInit(a),
      { dbName: d.dbName, seed: SEED * 7919 + d.i, own: d.own, opts: initOpts, login });
    if (!r.hadSession) report.errors.push(`device ${d.i}: the session was not kept across the reload`);
    report.reloads++;
    log(`device ${d.i} reloaded mid-sync (session kept: ${r.hadSession})`);
  }

  async function record(d) {
    while (d.done < EVENTS) {
      if (d.reloadReq) { d.reloadReq = false; await reload(d); }
      const auth = await d.page.evaluate(() => window.chaos.auth);
      if (auth > (d.auth || 0)) { d.auth = auth; report.relogins++; log(`device ${d.i}: auth event, logging in again`); await ensureLogin(d); }
      const r = await within(d.page.evaluate((n) => window.chaosStep(n), Math.min(STEP, EVENTS - d.done)), 120000, `device ${d.i} recording`);
      d.guids.push(...r.guids);
      d.own.push(...r.created);
      d.done += r.guids.length;
      report.refusedLocally += r.refused.length;
      for (const [k, v] of Object.entries(r.mix)) report.mix[k] = (report.mix[k] || 0) + v;
      if (r.refused.length) log(`device ${d.i} refused locally: ${r.refused.join(', ')}`);
      if (Date.now() > deadline) throw new Error('deadline while recording');
      await sleep(PACE);
    }
  }

  const total = N * EVENTS;
  const progress = () => devices.reduce((s, d) => s + d.done, 0) / total;

  // The disturbances: restarts at k/(RESTARTS+1) of the recording, reloads
  // in between (devices chosen by the seed).
  async function disturb() {
    const plan = [];
    for (let k = 1; k <= RESTARTS; k++) plan.push({ at: k / (RESTARTS + 1), what: 'restart' });
    for (let k = 1; k <= RELOADS; k++) plan.push({ at: (k - 0.5) / (RELOADS + 0.5) * 0.9 + 0.05, what: 'reload', dev: (SEED + k) % N });
    plan.sort((a, b) => a.at - b.at);
    for (const p of plan) {
      await waitFor(() => progress() >= p.at, `progress ${p.at}`, 30 * 60000, 100);
      if (p.what === 'reload') {
        const d = devices[p.dev];
        d.reloadReq = true;
        await waitFor(() => !d.reloadReq || d.done >= EVENTS, 'the reload to start', 120000);
        continue;
      }
      // Kill the server while a push is in flight.
      let mid = false;
      try {
        await waitFor(async () => ((await proxyGet('_chaos/stats')).inflight['/api/v1/sync/push'] || 0) > 0, 'a push in flight', 20000, 5);
        mid = true;
      } catch { /* none seen: kill anyway */ }
      await killServer();
      report.restarts++;
      if (mid) report.restartsMidPush++;
      log(`server killed (SIGKILL${mid ? ', mid-push' : ', no push seen in flight'}) at ${(progress() * 100).toFixed(0)}%`);
      await sleep(700); // the outage
      await startServer();
      log('server restarted');
    }
  }

  const recording = Promise.all(devices.map(record));
  await Promise.all([recording, disturb()]);
  report.recorded = devices.reduce((s, d) => s + d.guids.length, 0);
  log(`recorded ${report.recorded} events; faults off, syncing until quiet`);

  // ---- quiesce ----
  await proxyGet('_chaos/faults?enabled=0', 'POST');
  const syncOnce = (d) => within(d.page.evaluate(async () => {
    const dc = window.datacollect;
    try {
      const r = await dc.sync();
      const st = await dc.status();
      return { ok: true, pushed: r.pushed, pulled: r.pulled, pending: st.pendingEvents, failed: st.failedEvents, auth: st.authRequired };
    } catch (e) {
      const st = await dc.status();
      return { ok: false, code: e.code, message: e.message, auth: st.authRequired };
    }
  }), 180000, `device ${d.i} sync()`);
  let quietRounds = 0;
  let rounds = 0;
  await waitFor(async () => {
    rounds++;
    let quiet = true;
    for (const d of devices) {
      const r = await syncOnce(d);
      if (r.auth) { report.relogins++; await ensureLogin(d); quiet = false; continue; }
      if (!r.ok || r.pushed || r.pulled || r.pending) quiet = false;
      d.lastSync = r;
    }
    quietRounds = quiet ? quietRounds + 1 : 0;
    return quietRounds >= 2;
  }, 'every device quiet twice', 10 * 60000, 10);
  log(`quiet after ${rounds} rounds`);
  if (argv.sabotage) {
    await devices[0].page.evaluate(async () => {
      await window.datacollect.setAutoSync(false);
      await window.datacollect.submitForm({ type: 'create-individual', data: { name: 'sabotage' } });
    });
    log('sabotage: device 0 recorded an event it will not sync');
  }

  // ---- the server's events, straight from its API (JSON, no proxy) ----
  const lr = await fetch(serverURL + '/api/v1/auth/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ appId: 'demo', ...login }),
  });
  if (!lr.ok) throw new Error(`login: ${lr.status} ${await lr.text()}`);
  const { token } = await lr.json();
  const serverEvents = [];
  for (let since = 0; ;) {
    const r = await fetch(`${serverURL}/api/v1/sync/pull?since=${since}&limit=1000`, {
      headers: { Authorization: 'Bearer ' + token, Accept: 'application/json', 'X-Client-ID': 'chaos-checker', 'X-Sync-Version': '1.0.0' },
    });
    if (!r.ok) throw new Error(`pull: ${r.status} ${await r.text()}`);
    const page = await r.json();
    for (const e of page.events || []) serverEvents.push({ guid: e.guid, seq: e.seq });
    if (!page.hasMore) break;
    since = page.nextCursor;
  }
  const serverCount = new Map();
  for (const e of serverEvents) serverCount.set(e.guid, (serverCount.get(e.guid) || 0) + 1);
  const seqs = new Set(serverEvents.map((e) => e.seq));
  const problems = [];
  const note = (kind, msg) => { report[kind]++; if (problems.length < 40) problems.push(`${kind}: ${msg}`); };
  for (const [g, n] of serverCount) if (n > 1) note('duplicated', `server holds event ${g} ${n} times`);
  if (seqs.size !== serverEvents.length) note('duplicated', 'server sequence numbers repeat');
  const tracked = new Set();
  for (const d of devices) {
    for (const g of d.guids) {
      if (tracked.has(g)) note('duplicated', `guid ${g} returned twice by submitForm`);
      tracked.add(g);
      if (!serverCount.has(g)) note('lost', `event ${g} recorded by device ${d.i} is not on the server`);
    }
  }
  for (const g of serverCount.keys()) if (!tracked.has(g)) note('diverged', `server event ${g} was recorded by no device`);

  // ---- a fresh device pulls everything ----
  const fresh = { i: 'fresh', dbName: `chaos-${SEED}-fresh`, own: [], ctx: await browser.newContext() };
  await openDevice(fresh);
  await ensureLogin(fresh);
  await waitFor(async () => { const r = await syncOnce(fresh); return r.ok && r.pulled === 0 && r.pending === 0; }, 'the fresh device to pull everything', 10 * 60000, 10);

  const norm = (v) => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, norm(v[k])]));
    return v;
  };
  const snapshot = (d) => d.page.evaluate(async () => {
    const dc = window.datacollect;
    const evs = await dc.listEvents();
    const ents = await dc.listEntities({ includeDeleted: true });
    const ins = await dc.inspect();
    return {
      events: evs.map((e) => ({ guid: e.guid, seq: e.seq, level: e.syncLevel, failure: e.failure })),
      entities: ents, failedItems: ins.failedItems, cursor: ins.cursor, syncErrors: window.chaos.syncErrors, alerts: window.chaos.alerts,
    };
  });
  const ref = await snapshot(fresh);
  const refEnt = new Map(ref.entities.map((e) => [e.guid, JSON.stringify(norm(e))]));
  report.entities = refEnt.size;
  const checkEvents = (name, snap) => {
    const seen = new Map();
    for (const e of snap.events) seen.set(e.guid, (seen.get(e.guid) || 0) + 1);
    for (const [g, n] of seen) if (n > 1) note('duplicated', `${name} holds event ${g} ${n} times`);
    for (const g of serverCount.keys()) if (!seen.has(g)) note('lost', `${name} lacks server event ${g}`);
    for (const e of snap.events) {
      if (!serverCount.has(e.guid)) note('diverged', `${name} holds event ${e.guid} the server lacks (${e.level}${e.failure ? ' ' + JSON.stringify(e.failure) : ''})`);
      if (e.failure) report.rejected++;
    }
  };
  checkEvents('fresh device', ref);
  for (const d of devices) {
    const snap = await snapshot(d);
    d.snap = snap;
    checkEvents(`device ${d.i}`, snap);
    const mine = new Map(snap.entities.map((e) => [e.guid, JSON.stringify(norm(e))]));
    for (const [g, v] of refEnt) {
      if (!mine.has(g)) note('diverged', `device ${d.i} lacks entity ${g}`);
      else if (mine.get(g) !== v) note('diverged', `device ${d.i} entity ${g} differs:\n   device ${mine.get(g)}\n   fresh  ${v}`);
    }
    for (const g of mine.keys()) if (!refEnt.has(g)) note('diverged', `device ${d.i} has entity ${g} the server lacks`);
    if (snap.failedItems.length) log(`device ${d.i} failed items: ${JSON.stringify(snap.failedItems.slice(0, 5))}`);
  }
  for (const d of [...devices, fresh]) {
    const v = await d.page.evaluate(() => window.datacollect.verify());
    if (!v.match || v.localRoot !== v.serverRoot || v.repaired) {
      note('diverged', `device ${d.i} verify: ${JSON.stringify(v)}`);
    }
    d.verify = v;
  }
  const roots = new Set([...devices, fresh].map((d) => d.verify.serverRoot + '@' + d.verify.cursor));
  if (roots.size !== 1) note('diverged', `devices verified at different roots/cursors: ${[...roots].join(' ')}`);

  const st = await proxyGet('_chaos/stats');
  report.faults = st.faults;
  report.upstreamErrors = st.upstreamErrors;
  report.proxyRequests = st.requests;
  report.serverEvents = serverEvents.length;
  report.problems = problems;
  for (const d of devices) report[`device ${d.i} sync errors`] = d.snap.syncErrors;
} catch (e) {
  report.errors.push(e.stack || String(e));
} finally {
  await browser?.close().catch(() => {});
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
  if (proxy.exitCode === null) proxy.kill('SIGTERM');
  writeFileSync(path.join(work, 'server.log'), logs.server || '');
  writeFileSync(path.join(work, 'proxy.log'), logs.proxy || '');
}

// ---- the table ----
const secs = ((Date.now() - t0) / 1000).toFixed(1);
const rows = [
  ['devices', report.devices],
  ['events recorded', `${report.recorded} (${report.eventsPerDevice}/device; server holds ${report.serverEvents ?? '?'}; entities ${report.entities ?? '?'})`],
  ['  mix', Object.entries(report.mix).sort().map(([k, v]) => `${k} ${v}`).join(', ')],
  ['forms refused locally', report.refusedLocally],
  ['proxied API requests', report.proxyRequests ?? '?'],
  ...Object.entries(report.faults).map(([k, v]) => [`  fault ${k}`, v]),
  ['upstream errors (server down)', report.upstreamErrors],
  ['server restarts (SIGKILL)', `${report.restarts} (${report.restartsMidPush} mid-push)`],
  ['tab reloads mid-sync', report.reloads],
  ['re-logins after auth events', report.relogins],
  ['events rejected by the server', report.rejected],
  ['lost / duplicated / diverged', `${report.lost} / ${report.duplicated} / ${report.diverged}`],
  ['duration', `${secs} s`],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`\nchaos: seed ${SEED}, faults ${FAULTS}, work dir ${work}`);
for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
for (const d of devices) if (d.snap) console.log(`  device ${d.i}: sync errors ${JSON.stringify(d.snap.syncErrors)} alerts ${JSON.stringify(d.snap.alerts)}`);
for (const p of report.problems || []) console.log('  ' + p);
for (const e of report.errors) console.log('ERROR: ' + e);
const bad = report.lost + report.duplicated + report.diverged + report.rejected + report.errors.length;
if (bad) {
  console.log(`FAIL (logs: ${work}/server.log, ${work}/proxy.log)`);
  process.exit(1);
}
console.log('OK: nothing lost, nothing duplicated, every device equal to the server');
if (!process.env.CHAOS_KEEP) rmSync(work, { recursive: true, force: true }); // kept on failure, or with CHAOS_KEEP=1
process.exit(0);
