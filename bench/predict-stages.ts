// Per-stage timings of PatchCore.predict, one image at a time (inception_v3, 60 train / 40 test
// screw images), old implementation (copied below, bench only) vs the current one in src, A/B
// alternating per image so background load hits both alike. Also checks the outputs agree.
// Run: node dist/bench/predict-stages.js [reps=3] [train=60] [test=40] [ratio=0.1]
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { FeatureMaps, PatchFeatures, PatchScores, PreprocessConfig, RgbImage, ScoreMap, Tensor } from '../src/types.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore, scoreFeatures, toOriginal } from '../src/model/patchcore.js';
import { DEFAULT_SCORING } from '../src/model/config.js';
import { loadImage } from '../src/image/load.js';
import { preprocess, geometry, type Geometry } from '../src/image/preprocess.js';
import { aggregate, avgPool3x3, resizeBilinearCHW } from '../src/features/aggregate.js';
import { anomalyMap, gaussianBlur } from '../src/scoring/anomaly-map.js';

const reps = Number(process.argv[2] ?? 3);
const nTrain = Number(process.argv[3] ?? 60);
const nTest = Number(process.argv[4] ?? 40);
const ratio = Number(process.argv[5] ?? 0.1);
const ROOT = path.join(process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared'), 'datasets', 'mvtec_screw');

// ---------------------------------------------------------------- old implementations (A side)
const old = {
  async decode(file: string): Promise<RgbImage> {
    const bytes = await fs.readFile(file);
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: 16384 * 16384 }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  },
  async preprocess(img: RgbImage, cfg: PreprocessConfig): Promise<{ tensor: Tensor; geometry: Geometry }> {
    const g = geometry(img.width, img.height, cfg);
    let resized = img;
    if (img.width !== g.resizedW || img.height !== g.resizedH) {
      const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).resize(g.resizedW, g.resizedH, { kernel: 'linear', fit: 'fill' }).raw().toBuffer();
      resized = { width: g.resizedW, height: g.resizedH, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    }
    const out = new Uint8Array(g.cropW * g.cropH * 3);
    for (let r = 0; r < g.cropH; r++) out.set(resized.data.subarray(((g.cropY + r) * resized.width + g.cropX) * 3, ((g.cropY + r) * resized.width + g.cropX + g.cropW) * 3), r * g.cropW * 3);
    const n = g.cropW * g.cropH;
    const t = new Float32Array(3 * n);
    for (let c = 0; c < 3; c++) {
      const m = cfg.mean[c];
      const inv = 1 / cfg.std[c];
      for (let i = 0; i < n; i++) t[c * n + i] = (out[i * 3 + c] / 255 - m) * inv;
    }
    return { tensor: { dims: [1, 3, g.cropH, g.cropW], data: t }, geometry: g };
  },
  aggregate(maps: FeatureMaps): PatchFeatures {
    const a = avgPool3x3(maps.shallow);
    const [, c1, h, w] = a.dims;
    const b = resizeBilinearCHW(avgPool3x3(maps.deep), h, w);
    const c2 = b.dims[1];
    const full = c1 + c2;
    const count = h * w;
    const rows = new Float32Array(count * full);
    const TILE = 16;
    for (let p0 = 0; p0 < count; p0 += TILE) {
      const p1 = Math.min(p0 + TILE, count);
      for (let c = 0; c < c1; c++) for (let p = p0; p < p1; p++) rows[p * full + c] = a.data[c * count + p];
      for (let c = 0; c < c2; c++) for (let p = p0; p < p1; p++) rows[p * full + c1 + c] = b.data[c * count + p];
    }
    return { gridH: h, gridW: w, dim: full, count, data: rows };
  },
  anomalyMap(ps: PatchScores, width: number, height: number, sigma: number): ScoreMap {
    // the plain two-pass path: resize, then the per-line Gaussian (still in src as the reference)
    return gaussianBlur(oldResize({ width: ps.gridW, height: ps.gridH, data: ps.scores }, width, height), sigma);
  },
  toOriginal(map: ScoreMap, g: Geometry): ScoreMap {
    const full = new Float32Array(g.resizedW * g.resizedH);
    let min = Infinity;
    for (const v of map.data) min = Math.min(min, v);
    full.fill(min);
    for (let y = 0; y < g.cropH; y++) full.set(map.data.subarray(y * g.cropW, (y + 1) * g.cropW), (y + g.cropY) * g.resizedW + g.cropX);
    return oldResize({ width: g.resizedW, height: g.resizedH, data: full }, g.origW, g.origH);
  },
};

function oldResize(map: ScoreMap, width: number, height: number): ScoreMap {
  const taps = (inSize: number, outSize: number) => {
    const i0 = new Int32Array(outSize);
    const i1 = new Int32Array(outSize);
    const t = new Float32Array(outSize);
    const scale = inSize / outSize;
    for (let o = 0; o < outSize; o++) {
      const src = Math.max(0, (o + 0.5) * scale - 0.5);
      const a = Math.min(Math.floor(src), inSize - 1);
      i0[o] = a;
      i1[o] = Math.min(a + 1, inSize - 1);
      t[o] = src - a;
    }
    return { i0, i1, t };
  };
  const { width: w0, data: src } = map;
  const x = taps(w0, width);
  const y = taps(map.height, height);
  const data = new Float32Array(width * height);
  for (let r = 0; r < height; r++) {
    const a = y.i0[r] * w0;
    const b = y.i1[r] * w0;
    const ty = y.t[r];
    for (let c = 0; c < width; c++) {
      const tx = x.t[c];
      const top = src[a + x.i0[c]] * (1 - tx) + src[a + x.i1[c]] * tx;
      const bottom = src[b + x.i0[c]] * (1 - tx) + src[b + x.i1[c]] * tx;
      data[r * width + c] = top * (1 - ty) + bottom * ty;
    }
  }
  return { width, height, data };
}

// ---------------------------------------------------------------- helpers
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
async function timed<T>(fn: () => T | Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

// ---------------------------------------------------------------- main
const trainDir = path.join(ROOT, 'train/good');
const train = (await fs.readdir(trainDir)).sort().slice(0, nTrain).map((f) => path.join(trainDir, f));
const testFiles: string[] = [];
for (const d of ['good', 'defect']) {
  const dir = path.join(ROOT, 'test', d);
  testFiles.push(...(await fs.readdir(dir)).sort().map((f) => path.join(dir, f)));
}
const step = testFiles.length / nTest;
const test = Array.from({ length: nTest }, (_, i) => testFiles[Math.floor(i * step)]);

const backbone = await loadBackbone('inception_v3');
let t0 = performance.now();
const model = await PatchCore.fit(train, backbone, { preprocess: { resize: 256, crop: 224 }, background: null, featureDim: 0, ratio, seed: 0, scoring: { ...DEFAULT_SCORING } });
console.log(`fit ${train.length} images in ${((performance.now() - t0) / 1000).toFixed(1)} s, bank ${model.fitted.bank.size}×${model.fitted.bank.dim}`);
const cfg = model.config.preprocess;
const sigma = model.config.scoring.sigma;

const stages = ['decode', 'preprocess', 'backbone', 'aggregate', 'nn', 'map', 'toOriginal', 'predict', 'predict+mapOriginal'] as const;
type Stage = (typeof stages)[number];
const T = { A: {} as Record<Stage, number[]>, B: {} as Record<Stage, number[]> };
for (const s of stages) (T.A[s] = []), (T.B[s] = []);
const diff = { tensor: 0, features: 0, map: 0, orig: 0, score: 0 };

for (let rep = -1; rep < reps; rep++) {
  for (const [i, file] of test.entries()) {
    const order: ('A' | 'B')[] = (i + rep) % 2 ? ['A', 'B'] : ['B', 'A'];
    const out: Partial<Record<'A' | 'B', { tensor: Tensor; f: PatchFeatures; map: ScoreMap; orig: ScoreMap; score: number }>> = {};
    for (const side of order) {
      const t = T[side];
      const isOld = side === 'A';
      const [img, dDecode] = await timed(() => (isOld ? old.decode(file) : loadImage(file)));
      const [p, dPre] = await timed(() => (isOld ? old.preprocess(img, cfg) : preprocess(img, cfg)));
      const [maps, dNet] = await timed(() => backbone.run(p.tensor));
      const [f, dAgg] = await timed(() => (isOld ? old.aggregate(maps[0]) : aggregate(maps[0], { dim: 0 })));
      const [s, dNn] = await timed(() => scoreFeatures(f, model.fitted, model.config.scoring));
      const g = p.geometry;
      const [map, dMap] = await timed(() => (isOld ? old.anomalyMap(s.patches, g.cropW, g.cropH, sigma) : anomalyMap(s.patches, g.cropW, g.cropH, sigma)));
      const [orig, dOrig] = await timed(() => (isOld ? old.toOriginal(map, g) : toOriginal(map, g)));
      // end to end through the public API (B side only: src), with and without reading mapOriginal
      let dPred = NaN;
      let dPredOrig = NaN;
      if (!isOld) {
        const img2 = await loadImage(file);
        [, dPred] = await timed(() => model.predict(img2));
        [, dPredOrig] = await timed(async () => (await model.predict(img2)).mapOriginal);
      }
      if (rep >= 0) {
        t.decode.push(dDecode), t.preprocess.push(dPre), t.backbone.push(dNet), t.aggregate.push(dAgg), t.nn.push(dNn), t.map.push(dMap), t.toOriginal.push(dOrig);
        if (!isOld) t.predict.push(dPred), t['predict+mapOriginal'].push(dPredOrig);
      }
      out[side] = { tensor: p.tensor, f, map, orig, score: s.score };
    }
    const a = out.A!;
    const b = out.B!;
    diff.tensor = Math.max(diff.tensor, maxDiff(a.tensor.data, b.tensor.data));
    diff.features = Math.max(diff.features, maxDiff(a.f.data, b.f.data));
    diff.map = Math.max(diff.map, maxDiff(a.map.data, b.map.data));
    diff.orig = Math.max(diff.orig, maxDiff(a.orig.data, b.orig.data));
    diff.score = Math.max(diff.score, Math.abs(a.score - b.score));
  }
}

console.log(`\n${test.length} test images × ${reps} reps, medians in ms (A = old, B = src now); load ${(await fs.readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);
console.log(`${'stage'.padEnd(22)} ${'old'.padStart(8)} ${'new'.padStart(8)}`);
for (const s of stages) {
  const fa = T.A[s].length ? median(T.A[s]).toFixed(2) : '-';
  console.log(`${s.padEnd(22)} ${fa.padStart(8)} ${median(T.B[s]).toFixed(2).padStart(8)}`);
}
const sum = (side: 'A' | 'B') => (['decode', 'preprocess', 'aggregate', 'map', 'toOriginal'] as Stage[]).reduce((x, s) => x + median(T[side][s]), 0);
console.log(`${'sum of changed stages'.padEnd(22)} ${sum('A').toFixed(2).padStart(8)} ${sum('B').toFixed(2).padStart(8)}`);
console.log(`max |old − new|: tensor ${diff.tensor.toExponential(2)}, features ${diff.features.toExponential(2)}, map ${diff.map.toExponential(2)}, mapOriginal ${diff.orig.toExponential(2)}, score ${diff.score.toExponential(2)}`);
