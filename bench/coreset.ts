// Coreset benchmark: plain vs fast approximate-greedy selection on N×128 projected features.
// Usage: node dist/bench/coreset.js [--n 171696] [--ratios 0.1,0.01] [--data manifold|gaussian]
// "manifold" mimics projected CNN patch features (clustered, low intrinsic dimension);
// "gaussian" (i.i.d. isotropic) is the worst case: no distance bound can prune there.
import { pathToFileURL } from 'node:url';
import { Rng } from '../src/util/rng.js';
import { initialDelta, pickStarts, plainGreedyCoreset } from '../src/memory/coreset.js';
import { greedyCoreset } from '../src/memory/fast-coreset.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

/** Mixture of 64 blobs on a 12-d latent space, mapped linearly to `dim`, plus small noise. */
export function syntheticFeatures(n: number, dim: number, kind: string, seed = 1): Float32Array {
  const rng = new Rng(seed);
  const z = new Float32Array(n * dim);
  if (kind === 'gaussian') {
    for (let i = 0; i < z.length; i++) z[i] = rng.normal();
    return z;
  }
  const L = 12, K = 64;
  const A = Float64Array.from({ length: dim * L }, () => rng.normal());
  const mu = Array.from({ length: K }, () => Array.from({ length: L }, () => rng.normal() * 3));
  const sd = Array.from({ length: K }, () => 0.1 + rng.next() ** 2 * 1.5);
  const u = new Float64Array(L);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rng.next() ** 2 * K); // uneven cluster sizes, like background vs. detail
    for (let l = 0; l < L; l++) u[l] = mu[k][l] + sd[k] * rng.normal();
    for (let d = 0; d < dim; d++) {
      let s = 0.05 * rng.normal();
      for (let l = 0; l < L; l++) s += A[d * L + l] * u[l];
      z[i * dim + d] = s;
    }
  }
  return z;
}

function main(): void {
  const n = Number(arg('n', '171696')), dim = 128;
  const ratios = arg('ratios', '0.1,0.01').split(',').map(Number);
  const kind = arg('data', 'manifold');
  const z = syntheticFeatures(n, dim, kind);
  const starts = pickStarts(n, 0);
  const plainIters = Number(arg('plain-iters', '100'));

  let t = performance.now();
  initialDelta(z, n, dim, starts);
  const initMs = performance.now() - t;
  t = performance.now();
  plainGreedyCoreset(z, n, dim, plainIters, starts);
  const perIter = (performance.now() - t - initMs) / plainIters;

  const rows: string[][] = [['N', 'dim', 'data', 'ratio', 'centers', 'plain ms/iter', 'plain est. s', 'fast s', 'speed-up', 'peak RSS MB']];
  for (const ratio of ratios) {
    const count = Math.max(1, Math.floor(n * ratio));
    t = performance.now();
    greedyCoreset(z, n, dim, count, starts);
    const fastS = (performance.now() - t) / 1000;
    const plainS = (initMs + perIter * count) / 1000;
    const rss = process.resourceUsage().maxRSS / 1024;
    rows.push([String(n), String(dim), kind, String(ratio), String(count), perIter.toFixed(1),
      plainS.toFixed(1), fastS.toFixed(2), `${(plainS / fastS).toFixed(1)}x`, rss.toFixed(0)]);
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((v, c) => v.padStart(w[c])).join('  '));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
