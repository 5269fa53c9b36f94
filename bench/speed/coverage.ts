// Exact greedy vs composable coreset on the same projected features: time, and coverage radius
// (the largest patch-to-bank distance in the 128-d projection; over every `stride`-th row).
// Usage: npm run bench -- coverage --real DIR [--images 320] [--resize 512 --crop none] [--ratio 0.01]
//        [--seeds 0,1,2] [--no-exact] [--sample 60000]
import { realFeatures } from './coreset.js';
import { greedyCoreset } from '../../src/memory/coreset/exact/greedy.js';
import { pickStarts } from '../../src/memory/coreset/plain.js';
import { chunkStage } from '../../src/memory/coreset/composable/blocks.js';
import { finalStage } from '../../src/memory/coreset/composable/composable.js';
import { MinUpdate } from '../../src/memory/coreset/composable/simd.js';
import { arg } from '../lib/args.js';

/** max over sampled rows of the distance to the nearest bank row (float32 kernel). */
export function coverageRadius(z: Float32Array, n: number, dim: number, bank: Int32Array, sample: number): number {
  const stride = Math.max(1, Math.floor(n / sample));
  const rows: number[] = [];
  for (let i = 0; i < n; i += stride) rows.push(i);
  const first = rows.length;
  rows.push(...bank);
  const k = new MinUpdate(dim),
    d = k.load(z, rows);
  for (let b = 0; b < bank.length; b++) k.update(first + b);
  let r = 0;
  for (let i = 0; i < first; i++) r = Math.max(r, d[i]);
  return Math.sqrt(r);
}

async function main(): Promise<void> {
  const crop = arg('crop', '224');
  const z = await realFeatures(
    arg('real', ''),
    Number(arg('images', '320')),
    'inception_v3',
    Number(arg('resize', '256')),
    crop === 'none' ? 'none' : Number(crop),
  );
  const dim = 128,
    n = z.length / dim,
    count = Math.floor(n * Number(arg('ratio', '0.01'))),
    sample = Number(arg('sample', '60000'));
  const zs = new Float32Array(new SharedArrayBuffer(z.byteLength));
  zs.set(z);
  console.log(`N = ${n}, bank ${count}; coverage over ${Math.ceil(n / Math.max(1, Math.floor(n / sample)))} rows`);
  const rows = [['seed', 'method', 'time s', 'coverage radius']];
  const t = performance.now();
  const union = chunkStage({ data: zs, n, dim }, count, 0).union;
  const chunkS = (performance.now() - t) / 1000;
  rows.push(['0', `composable: block stage (union ${union.length}, shared by the runs)`, chunkS.toFixed(1), '']);
  for (const seed of arg('seeds', '0').split(',').map(Number)) {
    if (!process.argv.includes('--no-exact')) {
      const t0 = performance.now();
      const ex = greedyCoreset({ data: zs, n, dim }, { count, starts: pickStarts(n, seed) });
      rows.push([String(seed), 'exact greedy', ((performance.now() - t0) / 1000).toFixed(1), coverageRadius(zs, n, dim, ex, sample).toFixed(3)]);
    }
    const t1 = performance.now();
    const co = finalStage({ data: zs, dim }, union, count, seed);
    rows.push([String(seed), 'composable: final stage', ((performance.now() - t1) / 1000).toFixed(1), coverageRadius(zs, n, dim, co, sample).toFixed(3)]);
    console.error(rows.at(-1)!.join(' '));
  }
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

void main();
