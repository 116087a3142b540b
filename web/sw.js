// DataCollect service worker: keeps the app shell in a cache named after the
// build, so the page loads and records data with the network off. The server
// replaces __BUILD__ with a hash of the shell's files: a new build changes
// this script, the browser installs it, and it replaces the old cache.
// Requests to /api/ are never cached or answered from the cache.
'use strict';

const BUILD = '__BUILD__';
const PREFIX = 'datacollect-shell-';
const CACHE = PREFIX + BUILD;
const SHELL = [
  './',
  'wasm_exec.js',
  'web/datacollect.js',
  'web/datacollect.wasm',
  'web/app.js',
  'web/ui.js',
  'web/records.js',
  'web/review.js',
  'web/app.css',
  'manifest.webmanifest',
  'web/icons/icon-192.png',
  'web/icons/icon-512.png',
  'web/icons/maskable-192.png',
  'web/icons/maskable-512.png',
  'web/icons/apple-touch-icon.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache: 'reload' skips the HTTP cache, so the shell is this build's.
    await cache.addAll(SHELL.map((u) => new Request(u, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

const scope = new URL(self.registration.scope);

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== scope.origin) return;
  const rel = url.pathname.slice(scope.pathname.length);
  if (rel === 'api' || rel.startsWith('api/')) return; // the network only
  if (req.mode === 'navigate') {
    if (rel !== '' && rel !== 'index.html') return; // not the app
    event.respondWith(fromNetworkOrShell(req));
    return;
  }
  event.respondWith(fromCacheOrNetwork(req));
});

// The page itself: the network when it answers (so a new build shows at
// once), the cached shell when it does not.
async function fromNetworkOrShell(req) {
  try {
    const resp = await fetch(req);
    if (resp.ok) return resp;
    const cached = await caches.match('./', { cacheName: CACHE });
    return cached || resp;
  } catch (err) {
    const cached = await caches.match('./', { cacheName: CACHE });
    if (cached) return cached;
    throw err;
  }
}

// Shell files: this build's cached copy; anything else from the network.
async function fromCacheOrNetwork(req) {
  const cached = await caches.match(req, { cacheName: CACHE, ignoreSearch: true });
  return cached || fetch(req);
}
