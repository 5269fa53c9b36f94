// Scoring-stage timings: exact NN search (784 queries, D=1536) and the anomaly map.
// Run: npm run bench -- scoring [--threads 2] [--repeats 5]   (or by position: [threads] [repeats])
import type { MemoryBank, PatchScores } from '../../src/types.js';
import { NearestNeighbours } from '../../src/scoring/nn.js';
import { anomalyMap } from '../../src/scoring/anomaly-map.js';
import { argAt } from '../lib/args.js';

const threads = Number(argAt('threads', 0, '2'));
const repeats = Number(argAt('repeats', 1, '5'));
const D = 1536;
const N = 784;

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random();
  return a;
}

/** Median and min of `repeats` timed calls after one warm-up, in ms. */
async function time(fn: () => unknown): Promise<{ median: number; min: number }> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { median: t[t.length >> 1], min: t[0] };
}

const rows: string[][] = [['case', 'median ms', 'min ms']];
const add = (name: string, r: { median: number; min: number }) => rows.push([name, r.median.toFixed(1), r.min.toFixed(1)]);

const queries = random(N * D);
for (const M of [1700, 17000]) {
  const bank: MemoryBank = { dim: D, size: M, data: random(M * D) };
  const t0 = performance.now();
  const nn = await NearestNeighbours.create(bank, { threads });
  console.log(`bank ${M}: session created in ${(performance.now() - t0).toFixed(0)} ms`);
  for (const k of [1, 9]) {
    add(`nn ${N}x${D} vs ${M}, k=${k}`, await time(() => nn.search(queries, N, k)));
    add(`nn ${N}x${D} vs ${M}, k=${k}, no refine`, await time(() => nn.search(queries, N, k, false)));
  }
  await nn.release();
}

const ps: PatchScores = {
  gridH: 28,
  gridW: 28,
  scores: random(784),
  nearest: new Int32Array(784),
  nearestDist: new Float32Array(784),
};
add('map 28x28 -> 224x224, sigma 4', await time(() => anomalyMap(ps, 224, 224, 4)));

const w = Math.max(...rows.map((r) => r[0].length));
for (const r of rows) console.log(`${r[0].padEnd(w)}  ${r[1].padStart(9)}  ${r[2].padStart(7)}`);
console.log(`threads=${threads}, repeats=${repeats}`);
