// What recording the coverage radius adds to fit: one nearest-bank search of every training patch on
// the 128-d projections (memory/cover.ts), timed at the shared sets' sizes against the leave-one-out
// threshold's own substitute search, which has the same shape (bank entries against all rows).
//   npm run bench -- cover-radius [--rows 530000] [--bank 2650]
import * as os from 'node:os';
import { coverageRadius, ortNearest } from '../../src/memory/cover.js';
import { PairwiseKnn } from '../../src/scoring/pairwise-knn.js';
import { Rng } from '../../src/util/rng.js';
import { arg } from '../lib/args.js';

const n = Number(arg('rows', '530000')),
  m = Number(arg('bank', '2650')),
  P = 128;
const rng = new Rng(1);
const rows = Float32Array.from({ length: n * P }, () => rng.normal());
const bank = rows.slice(0, m * P);
const knn = await PairwiseKnn.create(P);
const t0 = Date.now();
const r = await coverageRadius({ n, at: (a, b) => rows.subarray(a * P, b * P) }, { data: bank, n: m, dim: P }, ortNearest(knn));
const t1 = Date.now();
// the substitute search's shape: the bank's entries as queries, all rows as candidates, k 16
for (let r0 = 0; r0 < n; r0 += 16384) await knn.search(bank, m, rows.subarray(r0 * P, Math.min(n, r0 + 16384) * P), Math.min(16384, n - r0), 16);
const t2 = Date.now();
console.log(
  `${n} rows x ${m} bank entries (128-d): radius ${r.toFixed(3)} in ${((t1 - t0) / 1000).toFixed(1)} s; the substitute search ${((t2 - t1) / 1000).toFixed(1)} s; load ${os.loadavg()[0].toFixed(1)}`,
);
await knn.release();
