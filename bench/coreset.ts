// Coreset benchmark: plain vs fast approximate-greedy selection on N×128 projected features,
// and (--store) a whole memory stage: 219 batches of 784 × 1536 through the FeatureStore.
// Usage: node dist/bench/coreset.js [--n 171696] [--ratios 0.1,0.01] [--data manifold|gaussian] [--store]
// "manifold" mimics projected CNN patch features (clustered, low intrinsic dimension);
// "gaussian" (i.i.d. isotropic) is the worst case: no distance bound can prune there.
import { pathToFileURL } from 'node:url';
import { Rng } from '../src/util/rng.js';
import { initialDelta, pickStarts, plainGreedyCoreset } from '../src/memory/coreset.js';
import { greedyCoreset } from '../src/memory/fast-coreset.js';
import { FeatureStore } from '../src/memory/feature-store.js';
import { buildMemoryBank } from '../src/memory/select.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

/** Row generator: a mixture of 64 uneven blobs on a 12-d latent space mapped linearly to `dim`, plus noise. */
export function featureSource(dim: number, kind: string, seed = 1): (rows: number) => Float32Array {
  const rng = new Rng(seed);
  if (kind === 'gaussian') return (rows) => Float32Array.from({ length: rows * dim }, () => rng.normal());
  const L = 12, K = 64;
  const A = Float64Array.from({ length: dim * L }, () => rng.normal());
  const mu = Array.from({ length: K }, () => Array.from({ length: L }, () => rng.normal() * 3));
  const sd = Array.from({ length: K }, () => 0.1 + rng.next() ** 2 * 1.5);
  const u = new Float64Array(L);
  return (rows) => {
    const z = new Float32Array(rows * dim);
    for (let i = 0; i < rows; i++) {
      const k = Math.floor(rng.next() ** 2 * K); // uneven cluster sizes, like background vs. detail
      for (let l = 0; l < L; l++) u[l] = mu[k][l] + sd[k] * rng.normal();
      for (let d = 0; d < dim; d++) {
        let s = 0.05 * rng.normal();
        for (let l = 0; l < L; l++) s += A[d * L + l] * u[l];
        z[i * dim + d] = s;
      }
    }
    return z;
  };
}

const rssMB = () => (process.resourceUsage().maxRSS / 1024).toFixed(0);

function table(rows: string[][]): void {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((v, c) => v.padStart(w[c])).join('  '));
}

function coresetBench(): void {
  const n = Number(arg('n', '171696')), dim = 128;
  const ratios = arg('ratios', '0.1,0.01').split(',').map(Number);
  const kind = arg('data', 'manifold');
  const z = featureSource(dim, kind)(n);
  const starts = pickStarts(n, 0);
  const plainIters = Number(arg('plain-iters', '100'));

  let t = performance.now();
  initialDelta(z, n, dim, starts);
  const initMs = performance.now() - t;
  t = performance.now();
  plainGreedyCoreset(z, n, dim, plainIters, starts);
  const perIter = (performance.now() - t - initMs) / plainIters;

  const rows = [['N', 'dim', 'data', 'ratio', 'centers', 'plain ms/iter', 'plain est. s', 'fast s', 'speed-up', 'peak RSS MB']];
  for (const ratio of ratios) {
    const count = Math.max(1, Math.floor(n * ratio));
    t = performance.now();
    greedyCoreset(z, n, dim, count, starts);
    const fastS = (performance.now() - t) / 1000;
    const plainS = (initMs + perIter * count) / 1000;
    rows.push([String(n), String(dim), kind, String(ratio), String(count), perIter.toFixed(1),
      plainS.toFixed(1), fastS.toFixed(2), `${(plainS / fastS).toFixed(1)}x`, rssMB()]);
  }
  table(rows);
}

async function storeBench(): Promise<void> {
  const batches = 219, per = 784, dim = 1536, ratio = Number(arg('ratios', '0.1'));
  const next = featureSource(dim, arg('data', 'manifold'));
  const store = new FeatureStore({ seed: 0 });
  let genMs = 0, t = performance.now();
  for (let b = 0; b < batches; b++) {
    const g = performance.now();
    const data = next(per);
    genMs += performance.now() - g;
    await store.append({ gridH: 28, gridW: 28, dim, count: per, data });
  }
  const appendS = (performance.now() - t - genMs) / 1000, rssAppend = rssMB();
  t = performance.now();
  const bank = buildMemoryBank(store, { ratio, seed: 0 });
  const bankS = (performance.now() - t) / 1000;
  store.close();
  table([['N', 'D', 'ratio', 'bank', 'append+project s', 'peak RSS after append MB', 'coreset+rows s', 'peak RSS MB'],
    [String(store.count), String(dim), String(ratio), String(bank.size), appendS.toFixed(1), rssAppend, bankS.toFixed(1), rssMB()]]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--store")) void storeBench();
  else coresetBench();
}
