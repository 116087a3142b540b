// The PouchDB anchor's server, run as its own process by bench.mjs:
// express-pouchdb (the CouchDB replication protocol) on PouchDB's LevelDB
// adapter, in a temporary directory. It also serves the page the browser's
// PouchDB runs in (same origin: no CORS) and counts the body bytes of every
// /db request and answer, after compression, as they cross the wire.
// Prints "pouch server at http://127.0.0.1:PORT" once it listens.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const express = require('express');
const PouchDB = require('pouchdb');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dc-bench-pouch-'));
const DB = PouchDB.defaults({ prefix: dir + path.sep });
const app = express();
const bytes = { sent: 0, received: 0, requests: 0 };

app.get('/pouch.html', (req, res) => res.type('html').send(
  '<!doctype html><meta charset="utf-8"><title>pouch</title><script src="/pouchdb.min.js"></script>' +
  // ?ready: note when a database is open and answering (P6).
  '<script>if (location.search === "?ready") new PouchDB("ready").info().then(() => { window.readyAt = performance.now(); });</script>'));
app.get('/pouchdb.min.js', (req, res) => res.sendFile(require.resolve('pouchdb/dist/pouchdb.min.js')));
app.get('/_bench/bytes', (req, res) => { res.json(bytes); bytes.sent = bytes.received = bytes.requests = 0; });

// Count bodies: the request's length, the answer as it leaves (this
// wrapper sits outside express-pouchdb's compression, so it sees gzip bytes).
app.use('/db', (req, res, next) => {
  bytes.requests++;
  // (From the header: a 'data' listener would drain the body before
  // express-pouchdb reads it. The browser's fetch always sends one.)
  bytes.received += Number(req.headers['content-length'] || 0);
  const write = res.write, end = res.end;
  const count = (chunk, enc) => { if (chunk) bytes.sent += Buffer.byteLength(chunk, typeof enc === 'string' ? enc : undefined); };
  res.write = function (chunk, enc, cb) { count(chunk, enc); return write.call(this, chunk, enc, cb); };
  res.end = function (chunk, enc, cb) { if (typeof chunk !== 'function') count(chunk, enc); return end.call(this, chunk, enc, cb); };
  next();
});
app.use('/db', require('express-pouchdb')(DB, {
  mode: 'minimumForPouchDB', inMemoryConfig: true, logPath: path.join(dir, 'log.txt'),
}));

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`pouch server at http://127.0.0.1:${server.address().port}`);
});
const stop = () => server.close(() => { fs.rmSync(dir, { recursive: true, force: true }); process.exit(0); });
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
