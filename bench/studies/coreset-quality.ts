// Coreset quality at the default preset: exact greedy against composable variants on the real
// training features of the shared sets, side by side in one process.
//
// Per set: the training features at the preset (extracted once, cached in the OS temp dir:
// projections and full rows), then for each variant its bank size, time (wall and CPU, both
// threads) and coverage radius: the largest distance from a training row to its nearest bank row
// (max and 99th percentile), over all rows in the 128-d projection and over every `stride`-th
// row in the full dimensions.
//
//   npm run bench -- coreset-quality [--sets mpdd,tire,screw] [--preset v3] [--seed 0]
//        [--variants exact,composable,union2,union4,union8,twopass,tail5] [--full-sample 40000]
//   npm run bench -- coreset-quality --eval 3 --methods exact,composable [--sets ...]
//        (the eval protocol, evaluateFeatures, on the same extraction for each method)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset } from '../../src/data/dataset.js';
import { loadBackbone } from '../../src/backbone/index.js';
import { createExtractor } from '../../src/model/extract.js';
import { evaluateFeatures, extractEvalFeatures } from '../../src/model/evaluate.js';
import { DEFAULT_SCORING, PRESETS } from '../../src/model/config.js';
import { FeatureStore } from '../../src/memory/feature-store.js';
import { readRows } from '../../src/memory/row-file.js';
import { greedyCoreset } from '../../src/memory/coreset/exact/greedy.js';
import { pickStarts } from '../../src/memory/coreset/plain.js';
import { chunkStage, unionFactor, blockRows } from '../../src/memory/coreset/composable/blocks.js';
import { finalStage } from '../../src/memory/coreset/composable/composable.js';
import { NearestNeighbours } from '../../src/scoring/nn.js';
import type { CoresetMethod } from '../../src/memory/select.js';
import { continueGreedy, type TailStats } from '../../src/memory/coreset/composable/tail.js';
import { arg } from '../lib/args.js';

const SHARED = process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared');
const SETS: Record<string, string> = { screw: 'mvtec_screw', tire: 'mvtec3d_tire', mpdd: 'mpdd_plate' };
const P = 128;

interface Cached {
  n: number;
  dim: number;
  z: Float32Array;
  rowsFile: string;
}

/** Training features of a set at a preset: projections in memory (shared), full rows in a cache file. */
async function trainFeatures(set: string, preset: string): Promise<Cached> {
  const base = path.join(os.tmpdir(), `patchcore-coreset-quality-${set}-${preset}`);
  const meta = `${base}.json`,
    projFile = `${base}.proj.f32`,
    rowsFile = `${base}.rows.f32`;
  if (!fs.existsSync(meta)) {
    const p = PRESETS[preset];
    const ds = await loadDataset(path.join(SHARED, 'datasets', SETS[set]));
    const bb = await loadBackbone(p.backbone as Parameters<typeof loadBackbone>[0]);
    const ex = await createExtractor(ds.train, bb, { preprocess: p.preprocess, background: null, featureDim: p.featureDim, precision: p.precision });
    const store = new FeatureStore({ seed: 0, spillProjectionAbove: Infinity });
    const t = performance.now();
    await ex.storeFiles(ds.train, store);
    await ex.release();
    await store.flush();
    console.log(`${set}: extracted ${store.count} rows × ${store.dim} of ${ds.train.length} images in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    fs.writeFileSync(projFile, new Uint8Array(store.projected.buffer, 0, store.count * P * 4));
    const fd = fs.openSync(rowsFile, 'w');
    for (let from = 0; from < store.count; from += 20000) {
      const idx = Int32Array.from({ length: Math.min(20000, store.count - from) }, (_, i) => from + i);
      fs.writeSync(fd, store.rows(idx));
    }
    fs.closeSync(fd);
    fs.writeFileSync(meta, JSON.stringify({ n: store.count, dim: store.dim }));
    store.close();
  }
  const { n, dim } = JSON.parse(fs.readFileSync(meta, 'utf8')) as { n: number; dim: number };
  const b = fs.readFileSync(projFile);
  const z = new Float32Array(new SharedArrayBuffer(n * P * 4));
  z.set(new Float32Array(b.buffer, b.byteOffset, n * P));
  return { n, dim, z, rowsFile };
}

/** Distance of each query row to its nearest bank row (exact search, float64 distances). */
async function nearest(bank: Float32Array, size: number, dim: number, rows: (from: number, to: number) => Float32Array, m: number): Promise<Float64Array> {
  const nn = await NearestNeighbours.create({ dim, size, data: bank });
  const out = new Float64Array(m);
  try {
    for (let from = 0; from < m; from += 16384) {
      const to = Math.min(m, from + 16384);
      const r = await nn.search(rows(from, to), to - from, 1);
      for (let i = 0; i < to - from; i++) out[from + i] = r.dist[i];
    }
  } finally {
    await nn.release();
  }
  return out;
}

function rowsOf(z: Float32Array, idx: Int32Array): Float32Array {
  const out = new Float32Array(idx.length * P);
  idx.forEach((r, k) => out.set(z.subarray(r * P, (r + 1) * P), k * P));
  return out;
}

function maxAndP99(d: Float64Array): [number, number] {
  const s = Float64Array.from(d).sort();
  return [s[s.length - 1], s[Math.floor(0.99 * (s.length - 1))]];
}

interface Variant {
  name: string;
  run: () => Int32Array | Promise<Int32Array>;
  stats?: TailStats;
}

/** The composable coreset on a row permutation of z: another partition into blocks (indices mapped back). */
function permutedUnion(z: Float32Array, n: number, count: number, seed: number, union?: number): Int32Array {
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  let s = seed * 2654435761 + 12345;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const zp = new Float32Array(new SharedArrayBuffer(n * P * 4));
  for (let i = 0; i < n; i++) zp.set(z.subarray(perm[i] * P, (perm[i] + 1) * P), i * P);
  const u = chunkStage({ data: zp, n, dim: P }, count, seed + 1, union ? { union } : {}).union;
  return u.map((i) => perm[i]);
}

function variants(z: Float32Array, n: number, count: number, seed: number): Variant[] {
  const comp = (union?: number) => () =>
    finalStage({ data: z, dim: P }, chunkStage({ data: z, n, dim: P }, count, 0, union ? { union } : {}).union, count, seed);
  const all: Variant[] = [
    { name: 'exact', run: () => greedyCoreset({ data: z, n, dim: P }, { count, starts: pickStarts(n, seed) }) },
    { name: 'composable', run: comp() },
    { name: 'union2', run: comp(2) },
    { name: 'union4', run: comp(4) },
    { name: 'union8', run: comp(8) },
    { name: 'union16', run: comp(16) },
    ...[2, 5, 10, 25, 50].map((pct): Variant => {
      const stats = {} as TailStats;
      return {
        name: `tail${pct}`,
        stats,
        run: async () => {
          const sel = comp()();
          const dist = (centers: Int32Array) => nearest(rowsOf(z, centers), centers.length, P, (a, b) => z.slice(a * P, b * P), n);
          return continueGreedy({ data: z, n, dim: P }, sel, Math.round((pct / 100) * count), { nearest: dist, stats });
        },
      };
    }),
    {
      name: 'twopass',
      run: () => {
        const a = chunkStage({ data: z, n, dim: P }, count, 0).union,
          b = permutedUnion(z, n, count, 0);
        return finalStage({ data: z, dim: P }, Int32Array.from(new Set([...a, ...b])).sort(), count, seed);
      },
    },
  ];
  return all;
}

async function qualityBench(): Promise<void> {
  const preset = arg('preset', 'v3'),
    seed = Number(arg('seed', '0'));
  const want = arg('variants', 'exact,composable,union2,union4,union8,twopass').split(',');
  const fullSample = Number(arg('full-sample', '40000'));
  for (const set of arg('sets', 'mpdd,tire,screw').split(',')) {
    const { n, dim, z, rowsFile } = await trainFeatures(set, preset);
    const count = Math.max(1, Math.floor(n * PRESETS[preset].ratio));
    const C = blockRows(n, count);
    console.log(
      `\n### ${set}: ${n} rows × ${dim} (projection ${P}), bank ${count}; blocks of ${C}, default union factor ${unionFactor(n, count, C).toFixed(2)}; load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    const stride = Math.max(1, Math.ceil(n / fullSample));
    const sample = Int32Array.from({ length: Math.ceil(n / stride) }, (_, i) => i * stride);
    const fd = fs.openSync(rowsFile, 'r');
    const sampleRows = readRows(fd, dim, sample);
    const rows = [['variant', 'bank', 'wall s', 'CPU s', `radius 128-d (all ${n})`, 'p99 128-d', `radius ${dim}-d (every ${stride}th)`, `p99 ${dim}-d`]];
    for (const v of variants(z, n, count, seed).filter((v) => want.includes(v.name))) {
      const c0 = process.cpuUsage(),
        t0 = performance.now();
      const idx = await v.run();
      const wall = (performance.now() - t0) / 1000,
        cpu = process.cpuUsage(c0);
      const bank128 = rowsOf(z, idx);
      if (v.stats) console.error(`  ${v.name}: ${JSON.stringify(v.stats)}`);
      const [r128, p128] = maxAndP99(await nearest(bank128, idx.length, P, (a, b) => z.slice(a * P, b * P), n));
      const [rFull, pFull] = maxAndP99(await nearest(readRows(fd, dim, idx), idx.length, dim, (a, b) => sampleRows.subarray(a * dim, b * dim), sample.length));
      rows.push([
        v.name,
        String(idx.length),
        wall.toFixed(1),
        ((cpu.user + cpu.system) / 1e6).toFixed(1),
        r128.toFixed(3),
        p128.toFixed(3),
        rFull.toFixed(3),
        pFull.toFixed(3),
      ]);
      console.error(rows.at(-1)!.join('  '), `load ${os.loadavg()[0].toFixed(1)}`);
    }
    fs.closeSync(fd);
    console.log(`| ${rows[0].join(' | ')} |\n|${rows[0].map(() => '---').join('|')}|`);
    for (const r of rows.slice(1)) console.log(`| ${r.join(' | ')} |`);
  }
}

async function evalBench(): Promise<void> {
  const preset = PRESETS[arg('preset', 'v3')],
    runs = Number(arg('eval', '3'));
  const methods = arg('methods', 'exact,composable').split(',') as CoresetMethod[];
  for (const set of arg('sets', 'mpdd,tire,screw').split(',')) {
    const ds = await loadDataset(path.join(SHARED, 'datasets', SETS[set]));
    const bb = await loadBackbone(preset.backbone as Parameters<typeof loadBackbone>[0]);
    const ex = await createExtractor(ds.train, bb, {
      preprocess: preset.preprocess,
      background: null,
      featureDim: preset.featureDim,
      precision: preset.precision,
    });
    const ef = await extractEvalFeatures(ds, ex);
    try {
      for (const method of methods) {
        const t0 = performance.now();
        const r = await evaluateFeatures(ef, { runs, ratio: preset.ratio, seed: 0, scoring: DEFAULT_SCORING, coresetMethod: method });
        const f = (k: keyof typeof r.metrics) => (r.metrics[k].mean === null ? '—' : `${r.metrics[k].mean!.toFixed(4)} ± ${r.metrics[k].std!.toFixed(4)}`);
        console.log(
          JSON.stringify({
            set,
            method,
            runs,
            seconds: (performance.now() - t0) / 1000,
            load: os.loadavg()[0],
            methods: r.coresetNotes,
            metrics: r.metrics,
            fitThresholds: r.fitThresholds,
          }),
        );
        console.log(
          `| ${set} | ${method} | ${f('image_auroc')} | ${f('pixel_auroc')} | ${f('aupro')} | ${f('threshold_recall')} | ${f('threshold_fpr')} | ${r.coresetNotes?.[0] ?? ''} |`,
        );
        r.close();
      }
    } finally {
      ef.close();
    }
  }
}

if (process.argv.includes('--eval')) void evalBench();
else void qualityBench();
