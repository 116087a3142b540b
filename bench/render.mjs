// node render.mjs: rewrites results/latest.md and latest.svg from
// results/latest.json, without running anything (after changing report.mjs).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { here } from './lib.mjs';
import { markdown, svg } from './report.mjs';

const dir = path.join(here, 'results');
const R = JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8'));
writeFileSync(path.join(dir, 'latest.md'), markdown(R));
writeFileSync(path.join(dir, 'latest.svg'), svg(R));
console.log(markdown(R));
