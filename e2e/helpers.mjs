// Shared helpers for the end-to-end tests and browser benchmarks: start the
// real server binary (built by `make build`) and Debian's Chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// startServer runs bin/datacollect-server serve on a free port and resolves
// to {url, stop}.
export async function startServer(extraArgs = []) {
  const bin = path.join(root, 'bin', 'datacollect-server');
  const proc = spawn(bin, ['serve', '-addr', '127.0.0.1:0', '-web', root, '-demo', ...extraArgs], {
    cwd: mkdtempSync(path.join(tmpdir(), 'dc-e2e-')),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + log)), 15000);
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/running at (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}:\n${log}`)); });
  });
  return {
    url,
    log: () => log,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.on('exit', resolve);
      proc.kill('SIGTERM');
    }),
  };
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

// openApp opens the app in a new page of ctx and waits for datacollect.ready.
// With bare set, the page holds only the loader, not the demo app (whose
// change listener would re-render on every write): for API tests and
// benchmarks.
export async function openApp(ctx, url, { bare = false } = {}) {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  if (bare) {
    const bareURL = new URL('bare.html', url).href;
    await page.route(bareURL, (route) => route.fulfill({
      contentType: 'text/html',
      body: '<!doctype html><meta charset="utf-8"><title>bare</title>' +
        '<script src="wasm_exec.js"></script><script src="web/datacollect.js"></script>',
    }));
    url = bareURL;
  }
  await page.goto(url);
  await page.evaluate(() => window.datacollect.ready);
  page.errors = errors;
  return page;
}

// useServerAndBrowser registers node:test hooks that start the server and
// Chromium before a file's tests and stop them after; the returned object's
// server and browser fields are set once they run.
export function useServerAndBrowser() {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await startServer();
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}
