// Process and browser plumbing for the benchmark harness: the real
// DataCollect server binary, the express-pouchdb anchor, Debian's Chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..');

// spawnUntil runs cmd and resolves to {url, stop} once its stdout matches re.
function spawnUntil(cmd, args, re, opts) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start:\n${log}`)), 20000);
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(re);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited ${code}:\n${log}`)); });
  });
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.on('exit', resolve);
    proc.kill('SIGTERM');
  });
  return url.then((u) => ({ url: u, stop }), async (e) => { await stop(); throw e; });
}

// startServer runs bin/datacollect-server serve -demo on a free port, with
// a new SQLite database, and resolves to {url, stop}.
export function startServer(extraArgs = []) {
  return spawnUntil(path.join(root, 'bin', 'datacollect-server'),
    ['serve', '-addr', '127.0.0.1:0', '-web', root, '-demo', ...extraArgs],
    /running at (http:\/\/\S+)/, { cwd: mkdtempSync(path.join(tmpdir(), 'dc-bench-')) });
}

// startPouchServer runs pouch-server.cjs (express-pouchdb on LevelDB).
export function startPouchServer() {
  return spawnUntil(process.execPath, [path.join(here, 'pouch-server.cjs')], /pouch server at (http:\/\/\S+)/, { cwd: here });
}

// launch starts headless Chromium with the flags this machine needs.
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// BARE is a page holding only the DataCollect loader, not the demo app.
export const BARE = '<!doctype html><meta charset="utf-8"><title>bare</title>' +
  '<script src="wasm_exec.js"></script><script src="web/datacollect.js"></script>' +
  '<script>datacollect.ready.then(() => { window.readyAt = performance.now(); });</script>';

// openDC opens a bare DataCollect page of server url in a new context (its
// own IndexedDB and HTTP cache) and waits for datacollect.ready.
export async function openDC(browser, url) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const bareURL = new URL('bare.html', url).href;
  await page.route(bareURL, (route) => route.fulfill({ contentType: 'text/html', body: BARE }));
  await page.goto(bareURL);
  await page.evaluate(() => window.datacollect.ready);
  page.on('close', () => ctx.close().catch(() => {}));
  return page;
}

// openPouch opens the pouch server's page (PouchDB's browser build, its
// IndexedDB adapter) in a new context.
export async function openPouch(browser, url, { timeReady = false } = {}) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(url + '/pouch.html' + (timeReady ? '?ready' : ''));
  await page.evaluate(() => window.PouchDB.version);
  page.on('close', () => ctx.close().catch(() => {}));
  return page;
}

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
