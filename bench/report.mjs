// Turns a run's results (results/latest.json) into the markdown table
// (results/latest.md) and the scaling chart (results/latest.svg).
const int = (x) => Math.round(x).toLocaleString('en-US');
const sec = (ms) => (ms >= 10000 ? (ms / 1000).toFixed(1) : (ms / 1000).toFixed(2)) + ' s';
const msec = (ms) => (ms >= 100 ? int(ms) : ms.toFixed(1)) + ' ms';
const kb = (b) => (b / 1024).toFixed(b >= 102400 ? 0 : 1) + ' KiB';
const times = (r) => (r >= 10 ? int(r) : r.toFixed(r >= 1.95 ? 1 : 2)) + '×';
// faster: higher is better for ours (a rate ratio, or anchor time / our time).
const same = (r) => Math.abs(r - 1) < 0.02;
const faster = (r) => (same(r) ? '**the same**' : r >= 1 ? `**${times(r)} faster**` : `**${times(1 / r)} slower**`);
const fewer = (r, unit = 'bytes') => (same(r) ? `**the same ${unit}**` : r <= 1 ? `**${times(1 / r)} fewer ${unit}**` : `**${times(r)} more ${unit}**`);
const smaller = (r) => (same(r) ? '**the same size**' : r <= 1 ? `**${times(1 / r)} smaller**` : `**${times(r)} larger**`);
const pct = (r) => `**${Math.round(r * 100)} %** of raw speed`;

// rows builds [ratio, measure, ours, anchor, anchor value] for every result.
export function rows(R) {
  const out = [];
  const add = (ratio, measure, ours, anchor, value) => out.push([ratio, measure, ours, anchor, value]);
  const fs = (x) => int(x) + ' forms/s';
  for (const r of R.p1 || []) {
    const what = (r.size === 1 ? 'submitForm, one by one' : `submitForms, batches of ${int(r.size)}`) +
      (r.label ? ', encrypted at rest' : '');
    add(pct(r.ours / r.raw), `P1 ${what}`, fs(r.ours), 'raw IndexedDB, same records (the limit)', fs(r.raw));
    if (r.pouch) add(faster(r.ours / r.pouch), `P1 ${what}`, fs(r.ours), `PouchDB ${r.size === 1 ? 'put' : 'bulkDocs'}`, fs(r.pouch));
  }
  const p2 = R.p2 || { ours: [], pouch: [] };
  for (const o of p2.ours) {
    const p = p2.pouch.find((x) => x.N === o.N);
    if (!p) continue;
    const label = `P2 full sync ${int(o.N)} events A → server → B`;
    add(faster(p.ms / o.ms), label, sec(o.ms), 'PouchDB → express-pouchdb → PouchDB', sec(p.ms));
    if (o.N === Math.max(...p2.ours.map((x) => x.N))) {
      add(faster(p.a.ms / o.a.ms), `P2 … of which A → server (${int(o.N)})`, sec(o.a.ms) + ' (push + confirm)', 'PouchDB replicate A → server', sec(p.a.ms));
      add(faster(p.b.ms / o.b.ms), `P2 … of which server → B (${int(o.N)})`, sec(o.b.ms), 'PouchDB replicate server → B', sec(p.b.ms));
    }
  }
  const p3 = R.p3 || { ours: [], pouch: [] };
  const base = p3.ours.find((o) => !o.skipped);
  for (const o of p3.ours) {
    const p = p3.pouch.find((x) => x.n === o.n && !x.skipped);
    const label = `P3 incremental sync of 10 new events, ${int(o.n)} stored on device and server`;
    if (o.skipped) { add('-', label, `skipped: building it would take ~${int(o.skipped / 60)} min here`, '', ''); continue; }
    if (p) add(faster(p.ms / o.ms), label, msec(o.ms), 'PouchDB.sync, same state', msec(p.ms));
    if (o !== base) add(faster(base.ms / o.ms), label, msec(o.ms), `ours with ${int(base.n)} stored (flat = 1×)`, msec(base.ms));
  }
  const p4 = R.p4;
  if (p4) {
    const o = p4.ours.required, N = o.N, B = (x) => x.toFixed(1) + ' B';
    const push = o.a.bytesSent / N, plain = p4.json.plain / p4.json.n, zipped = p4.json.zipped / p4.json.n;
    const label = `(${int(N)} events, data sealed: -envelope required)`;
    add(fewer(push / plain), `P4 push bytes/event, MessagePack + gzip ${label}`, B(push), 'JSON, plain (what the reference sends)', B(plain));
    add(fewer(push / zipped), `P4 push bytes/event ${label}`, B(push), 'the same JSON + gzip', B(zipped));
    const p = (R.p2?.pouch || []).find((x) => x.N === N);
    if (p) {
      const pull = (o.b.bytesSent + o.b.bytesReceived) / N, ppull = (p.b.bytes.sent + p.b.bytes.received) / N;
      const all = (o.a.bytesSent + o.a.bytesReceived + o.b.bytesSent + o.b.bytesReceived) / N;
      const pall = (p.a.bytes.sent + p.a.bytes.received + p.b.bytes.sent + p.b.bytes.received) / N;
      add(fewer(pull / ppull), `P4 pull bytes/event, server → B ${label}`, B(pull), 'PouchDB replication server → B', B(ppull));
      add(fewer(all / pall), `P4 all bytes/event A → server → B (A also pulls its own back) ${label}`, B(all), 'PouchDB replication, both legs', B(pall));
    }
    const opt = p4.ours.optional, req = Object.values(p4.ours).find((x) => x !== opt && x.N === opt.N);
    if (opt && req) {
      const po = opt.a.bytesSent / opt.N, pr = req.a.bytesSent / req.N;
      add(fewer(po / pr), `P4 push bytes/event, -envelope optional (${int(opt.N)} events)`, B(po), 'the same with -envelope required', B(pr));
    }
  }
  const p5 = R.p5;
  if (p5) {
    const fmt = (x) => `${int(x.rate)} events/s, p50 ${msec(x.p50)}, p99 ${msec(x.p99)}`;
    for (const kind of ['sqlite', 'postgres']) {
      if (!p5.go?.[kind]) continue;
      add(p5.pouch ? faster(p5.go[kind].rate / p5.pouch.rate) : '-', `P5 server ingest, 50 clients × batches of 100, ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`,
        fmt(p5.go[kind]), 'express-pouchdb _bulk_docs (LevelDB)', p5.pouch ? fmt(p5.pouch) : 'not run');
    }
  }
  const p6 = R.p6;
  if (p6) {
    add(smaller(p6.ours.gzip / p6.pouch.gzip), 'P6 client download, gzip -9 (wasm + loader)', kb(p6.ours.gzip), 'pouchdb.min.js, gzip -9', kb(p6.pouch.gzip));
    add(smaller(p6.ours.brotli / p6.pouch.brotli), 'P6 client download, brotli 11', kb(p6.ours.brotli), 'pouchdb.min.js, brotli 11', kb(p6.pouch.brotli));
    add(smaller(p6.ours.raw / p6.pouch.raw), 'P6 client download, raw', kb(p6.ours.raw), 'pouchdb.min.js, raw', kb(p6.pouch.raw));
    add(faster(p6.pouch.ready / p6.ours.ready), 'P6 page load → ready (cold cache, median)', msec(p6.ours.ready), 'PouchDB page load → database open', msec(p6.pouch.ready));
  }
  return out;
}

export function markdown(R) {
  const lines = [];
  lines.push(`# make bench — ${R.date}`, '');
  lines.push(`${R.machine}. Total ${int(R.seconds)} s. One headless Chromium; ours = DataCollect (this tree), ` +
    'anchor = what it is compared with. Ratio = ours against the anchor (faster/slower for rates and times, % of the limit for raw IndexedDB, fewer/more bytes, smaller/larger downloads). ' +
    'How to read it: [bench/README.md](../README.md).', '');
  lines.push('| ours vs anchor | measure | ours | anchor | anchor value |', '|---|---|---|---|---|');
  for (const r of rows(R)) lines.push('| ' + r.join(' | ') + ' |');
  lines.push('', '![full sync time against events](latest.svg)', '');
  if (R.notes?.length) lines.push('Notes:', ...R.notes.map((n) => '- ' + n), '');
  if (R.lifecycle?.length) {
    lines.push('Sync lifecycle (no anchor):', '', '| measure | time | note |', '|---|---|---|');
    for (const r of R.lifecycle) lines.push('| ' + r.join(' | ') + ' |');
    lines.push('');
  }
  if (R.extra?.length) lines.push('Go benchmarks (server stores, envelopes):', '', '```', ...R.extra, '```', '');
  return lines.join('\n');
}

// svg draws full-sync time against events: ours and PouchDB.
export function svg(R) {
  const W = 640, H = 400, m = { l: 64, r: 24, t: 40, b: 56 };
  const series = [
    { name: 'DataCollect: A → server → B', color: '#1f77b4', pts: R.p2.ours.map((o) => [o.N, o.ms / 1000]) },
    { name: 'PouchDB → express-pouchdb → PouchDB', color: '#d62728', pts: R.p2.pouch.map((o) => [o.N, o.ms / 1000]) },
  ];
  const all = series.flatMap((s) => s.pts);
  const xMax = Math.max(...all.map((p) => p[0]));
  const nice = (v) => { const e = 10 ** Math.floor(Math.log10(v)); return [1, 2, 2.5, 5, 10].map((k) => k * e).find((k) => k >= v); };
  const yMax = nice(Math.max(...all.map((p) => p[1])) * 1.05);
  const X = (x) => m.l + (x / xMax) * (W - m.l - m.r), Y = (y) => H - m.b - (y / yMax) * (H - m.t - m.b);
  const o = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">Full sync time against events (headless Chromium, ${R.date.slice(0, 10)})</text>`];
  for (let i = 0; i <= 5; i++) {
    const y = (yMax / 5) * i;
    o.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(y)}" y2="${Y(y)}" stroke="#ddd"/>`,
      `<text x="${m.l - 6}" y="${Y(y) + 4}" text-anchor="end">${+y.toFixed(2)}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const x = (xMax / 5) * i;
    o.push(`<line x1="${X(x)}" x2="${X(x)}" y1="${H - m.b}" y2="${H - m.b + 5}" stroke="#333"/>`,
      `<text x="${X(x)}" y="${H - m.b + 18}" text-anchor="middle">${int(x)}</text>`);
  }
  o.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 14}" text-anchor="middle">events synced (device A → server → device B)</text>`,
    `<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">seconds</text>`);
  o.push(`<rect x="${m.l + 8}" y="${m.t - 4}" width="300" height="${series.length * 20 + 4}" fill="#fff" stroke="#ccc"/>`);
  series.forEach((s, i) => {
    o.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2.5" points="${s.pts.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of s.pts) o.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3.5" fill="${s.color}"><title>${int(x)} events: ${y.toFixed(2)} s</title></circle>`);
    const ly = m.t + 8 + i * 20;
    o.push(`<line x1="${m.l + 16}" x2="${m.l + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"/>`,
      `<text x="${m.l + 46}" y="${ly + 4}">${s.name}</text>`);
  });
  o.push('</svg>', '');
  return o.join('\n');
}
