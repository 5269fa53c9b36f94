// Coreset benchmark: plain vs fast approximate-greedy selection on N×128 projected features,
// and (--store) a whole memory stage: 219 batches of 784 × 1536 through the FeatureStore.
// Usage: npm run bench -- coreset [--n 171696] [--ratios 0.1,0.01] [--data manifold|gaussian] [--store]
//        npm run bench -- coreset --real DIR [--images 210] [--backbone inception_v3|wrn50-random]
// --threads 1|2 forces the fast version's thread count (default: its own choice, see src/memory/coreset/exact/greedy.ts).
// --real: projected features of the first N train images of an MVTec-layout DIR (extracted
// once, cached in the OS temp dir), instead of synthetic data.
// "manifold" mimics projected CNN patch features (clustered, low intrinsic dimension);
// "gaussian" (i.i.d. isotropic) is the worst case: no distance bound can prune there.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../../src/util/rng.js';
import { initialDelta, pickStarts, plainGreedyCoreset } from '../../src/memory/coreset/plain.js';
import { greedyCoreset } from '../../src/memory/coreset/exact/greedy.js';
import { FeatureStore } from '../../src/memory/feature-store.js';
import { selectCoreset } from '../../src/memory/select.js';
import { randomWrn50 } from '../lib/random-wrn50.js';
import { arg } from '../lib/args.js';

/** Row generator: a mixture of 64 uneven blobs on a 12-d latent space mapped linearly to `dim`, plus noise. */
export function featureSource(dim: number, kind: string, seed = 1, jitter = (rng: Rng) => 0.05 * rng.normal()): (rows: number) => Float32Array {
  const rng = new Rng(seed);
  if (kind === 'gaussian') return (rows) => Float32Array.from({ length: rows * dim }, () => rng.normal());
  if (kind === 'uniform') return (rows) => Float32Array.from({ length: rows * dim }, () => rng.next() - 0.5);
  const L = 12,
    K = 64;
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
        let s = jitter(rng);
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

/**
 * Projected (128-d) features of the first `images` train images of `dir`, cached on disk (the
 * OS temp dir) so that experiments at 1.2M patches do not rerun the backbone.
 */
export async function realFeatures(dir: string, images: number, backbone: string, resize = 256, crop: number | 'none' = 224): Promise<Float32Array> {
  const size = resize === 256 && crop === 224 ? '' : `-${resize}-${crop}`;
  const key = `${path.basename(path.resolve(dir))}-${backbone}-${images}${size}`.replace(/[^\w.-]/g, '_');
  const cache = path.join(os.tmpdir(), `patchcore-coreset-bench-${key}.f32`);
  if (fs.existsSync(cache)) {
    const b = fs.readFileSync(cache);
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice();
  }
  // Loaded lazily: the synthetic benchmark needs no backbone.
  const { loadBackbone } = await import('../../src/backbone/index.js');
  const { Extractor } = await import('../../src/model/extract.js');
  const { trainImages } = await import('../../src/data/dataset.js');
  const files = (await trainImages(dir)).slice(0, images);
  const bb = backbone === 'wrn50-random' ? await randomWrn50() : await loadBackbone(backbone as Parameters<typeof loadBackbone>[0]);
  const ex = new Extractor(bb, { preprocess: { resize, crop, mean: bb.spec.mean, std: bb.spec.std }, background: null, featureDim: 0 });
  const store = new FeatureStore({ seed: 0 });
  const t = performance.now();
  store.reserve(files.length * (crop === 'none' ? Math.ceil(resize / 8) ** 2 : Math.ceil(crop / 8) ** 2));
  for await (const e of ex.extractFiles(files)) await store.append(e.features);
  console.log(`extracted ${store.count} patches of ${files.length} images in ${((performance.now() - t) / 1000).toFixed(1)} s -> ${cache}`);
  const z = store.projected.slice();
  store.close();
  fs.writeFileSync(cache, new Uint8Array(z.buffer));
  return z;
}

async function coresetBench(): Promise<void> {
  const dim = 128,
    real = arg('real', '');
  const ratios = arg('ratios', '0.1,0.01').split(',').map(Number);
  const kind = real ? path.basename(path.resolve(real)) : arg('data', 'manifold');
  const z = real
    ? await realFeatures(real, Number(arg('images', '210')), arg('backbone', 'inception_v3'))
    : featureSource(dim, kind)(Number(arg('n', '171696')));
  const n = z.length / dim;
  const starts = pickStarts(n, 0);
  const plainIters = Number(arg('plain-iters', '100'));

  let t = performance.now();
  initialDelta({ data: z, n, dim }, starts);
  const initMs = performance.now() - t;
  t = performance.now();
  plainGreedyCoreset({ data: z, n, dim }, plainIters, starts);
  const perIter = (performance.now() - t - initMs) / plainIters;

  const threads = arg('threads', '') ? Number(arg('threads', '')) : undefined;
  const rows = [['N', 'dim', 'data', 'ratio', 'centers', 'plain ms/iter', 'plain est. s', 'threads', 'fast s', 'speed-up', 'peak RSS MB']];
  for (const ratio of ratios) {
    const count = Math.max(1, Math.floor(n * ratio));
    t = performance.now();
    greedyCoreset({ data: z, n, dim }, { count, starts, threads });
    const fastS = (performance.now() - t) / 1000;
    const plainS = (initMs + perIter * count) / 1000;
    rows.push([
      String(n),
      String(dim),
      kind,
      String(ratio),
      String(count),
      perIter.toFixed(1),
      plainS.toFixed(1),
      threads === undefined ? 'auto' : String(threads),
      fastS.toFixed(2),
      `${(plainS / fastS).toFixed(1)}x`,
      rssMB(),
    ]);
  }
  table(rows);
}

async function storeBench(): Promise<void> {
  const batches = 219,
    per = 784,
    dim = 1536,
    ratio = Number(arg('ratios', '0.1'));
  const next = featureSource(dim, arg('data', 'manifold'));
  const store = new FeatureStore({ seed: 0 });
  let genMs = 0,
    t = performance.now();
  for (let b = 0; b < batches; b++) {
    const g = performance.now();
    const data = next(per);
    genMs += performance.now() - g;
    await store.append({ gridH: 28, gridW: 28, dim, count: per, data });
  }
  const appendS = (performance.now() - t - genMs) / 1000,
    rssAppend = rssMB();
  t = performance.now();
  const { indices } = await selectCoreset(store, { ratio, seed: 0 });
  const bank = { size: indices.length, data: store.rows(indices) };
  const bankS = (performance.now() - t) / 1000;
  store.close();
  table([
    ['N', 'D', 'ratio', 'bank', 'append+project s', 'peak RSS after append MB', 'coreset+rows s', 'peak RSS MB'],
    [String(store.count), String(dim), String(ratio), String(bank.size), appendS.toFixed(1), rssAppend, bankS.toFixed(1), rssMB()],
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--store')) void storeBench();
  else void coresetBench();
}
