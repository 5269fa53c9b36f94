// The foreground mask (src/foreground/): the principal axis against a brute-force eigen
// decomposition, Otsu against an exhaustive search, the grid morphology by hand, `auto`'s decision
// on stable and unstable planted feature sets, the pruned leave-one-out equal to the plain one
// under a mask, and end to end on planted images: a defect on the background is flagged with the
// mask off and not with it on, while a defect on the object is still found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import './helpers.js';
import { tempDir } from './helpers.js';
import { otsu, principalAxis, project } from '../src/foreground/pca.js';
import { cleanMask, foregroundCells, pcaRaw, rangeRaw, type ForegroundConfig } from '../src/foreground/mask.js';
import { fitForeground, meanIoU } from '../src/foreground/fit.js';
import { FeatureStore } from '../src/memory/index.js';
import { bankFromStore } from '../src/model/bank.js';
import { leaveOneOutScores, leaveOneOutScoresPlain } from '../src/model/threshold.js';
import { DEFAULT_SCORING } from '../src/model/config.js';
import { syntheticSample } from '../src/data/synthetic.js';
import { loadBackbone } from '../src/backbone/index.js';
import { PatchCore } from '../src/model/patchcore.js';
import { exportModel } from '../src/export/export.js';
import { encodePng } from '../src/image/load.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { UserError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import type { Geometry, RgbImage } from '../src/types.js';
import * as path from 'node:path';

/** Eigenvalues and vectors of a symmetric matrix by cyclic Jacobi rotations (the brute-force reference). */
function jacobi(a: number[][]): { values: number[]; vectors: number[][] } {
  const n = a.length,
    A = a.map((r) => r.slice()),
    V: number[][] = a.map((_, i) => a.map((_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p][q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (A[p][q] === 0) continue;
        const th = (A[q][q] - A[p][p]) / (2 * A[p][q]);
        const t = Math.sign(th || 1) / (Math.abs(th) + Math.sqrt(th * th + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k][p],
            akq = A[k][q];
          A[k][p] = c * akp - s * akq;
          A[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p][k],
            aqk = A[q][k];
          A[p][k] = c * apk - s * aqk;
          A[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k][p],
            vkq = V[k][q];
          V[k][p] = c * vkp - s * vkq;
          V[k][q] = s * vkp + c * vkq;
        }
      }
  }
  return { values: A.map((r, i) => r[i]), vectors: A.map((_, j) => V.map((r) => r[j])) };
}

test('principalAxis equals the top eigenvector of the sample covariance (Jacobi)', () => {
  const rng = new Rng(3);
  const n = 300,
    D = 6;
  const scale = [3, 1.5, 1, 0.7, 0.5, 0.2];
  const rows = new Float32Array(n * D);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) rows[i * D + d] = 5 + scale[d] * rng.normal() + (d === 1 ? 0.8 * rows[i * D] : 0);
  const mean = Array.from({ length: D }, (_, d) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += rows[i * D + d];
    return s / n;
  });
  const cov = mean.map((_, a) =>
    mean.map((_, b) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (rows[i * D + a] - mean[a]) * (rows[i * D + b] - mean[b]);
      return s / (n - 1);
    }),
  );
  const ref = jacobi(cov);
  const top = ref.values.indexOf(Math.max(...ref.values));
  const pc = principalAxis(rows, n, D);
  const cos = pc.axis.reduce((s, v, d) => s + v * ref.vectors[top][d], 0);
  assert.ok(Math.abs(Math.abs(cos) - 1) < 1e-9, `|cos| = ${Math.abs(cos)}`);
  assert.ok(Math.abs(pc.variance - ref.values[top]) < 1e-9 * ref.values[top], `${pc.variance} vs ${ref.values[top]}`);
  pc.mean.forEach((m, d) => assert.ok(Math.abs(m - mean[d]) < 1e-9));
});

test('otsu: its cut is as good as the best of every cut between sorted values; separation tells two modes from one', () => {
  const rng = new Rng(5);
  const between = (v: number[], cut: number) => {
    const a = v.filter((x) => x <= cut),
      b = v.filter((x) => x > cut);
    if (!a.length || !b.length) return 0;
    const m = (x: number[]) => x.reduce((s, y) => s + y, 0) / x.length;
    return (a.length / v.length) * (b.length / v.length) * (m(a) - m(b)) ** 2;
  };
  const two = Array.from({ length: 600 }, (_, i) => (i < 400 ? rng.normal() : 6 + 0.5 * rng.normal()));
  const sorted = [...two].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0; i < sorted.length - 1; i++) best = Math.max(best, between(two, (sorted[i] + sorted[i + 1]) / 2));
  const s = otsu(two);
  assert.ok(between(two, s.cut) >= 0.995 * best, `${between(two, s.cut)} vs ${best}`);
  assert.ok(s.separation > 0.9, `two modes: ${s.separation}`);
  const one = otsu(Array.from({ length: 5000 }, () => rng.normal()));
  assert.ok(Math.abs(one.separation - 2 / Math.PI) < 0.03, `one Gaussian: ${one.separation} (2/π = ${2 / Math.PI})`);
});

test('cleanMask: closing fills a one-cell hole and keeps the border, dilation adds one ring', () => {
  const W = 7,
    H = 7;
  const raw = new Uint8Array(H * W);
  for (let y = 0; y < 5; y++) for (let x = 0; x < 4; x++) raw[y * W + x] = 1; // touches the top and left border
  raw[2 * W + 1] = 0; // the hole
  const closed = cleanMask(raw, H, W, { close: 1, dilate: 0 });
  const want = new Uint8Array(H * W);
  for (let y = 0; y < 5; y++) for (let x = 0; x < 4; x++) want[y * W + x] = 1;
  assert.deepEqual(closed, want);
  const grown = cleanMask(raw, H, W, { close: 1, dilate: 1 });
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) assert.equal(grown[y * W + x], y <= 5 && x <= 4 ? 1 : 0, `(${x}, ${y})`);
});

test('rangeRaw: cells over a dark square are foreground, light background cells are not (through a 2× resize)', () => {
  const w = 64,
    h = 64,
    data = new Uint8Array(w * h * 3).fill(220);
  for (let y = 16; y < 32; y++) for (let x = 32; x < 48; x++) data.fill(40, (y * w + x) * 3, (y * w + x) * 3 + 3);
  const img: RgbImage = { width: w, height: h, data };
  const g: Geometry = { origW: 64, origH: 64, resizedW: 32, resizedH: 32, cropX: 0, cropY: 0, cropW: 32, cropH: 32 };
  const cells = rangeRaw(img, g, 4, 4, { lo: [150, 150, 150], hi: [255, 255, 255] });
  assert.deepEqual(Array.from(cells), [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

/** Planted patch features: an object of cluster A at (ox, oy) on a background of cluster B, plus noise. */
function plantedStore(images: number, o: { moving?: boolean; texture?: boolean }, seed = 1) {
  const rng = new Rng(seed);
  const H = 12,
    W = 12,
    D = 16;
  const store = new FeatureStore({ seed: 0, inMemory: true });
  const grids = [];
  const truths: Uint8Array[] = [];
  const rowsOf: Float32Array[] = [];
  return (async () => {
    for (let i = 0; i < images; i++) {
      const ox = o.moving ? rng.int(W - 4) : 4,
        oy = o.moving ? rng.int(H - 4) : 4;
      const truth = new Uint8Array(H * W),
        data = new Float32Array(H * W * D);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const c = y * W + x,
            on = !o.texture && x >= ox && x < ox + 4 && y >= oy && y < oy + 4;
          truth[c] = on ? 1 : 0;
          for (let d = 0; d < D; d++) data[c * D + d] = (on ? (d < 4 ? 3 : 0) : d >= 12 ? 1 : 0) + 0.3 * rng.normal();
        }
      await store.append({ gridH: H, gridW: W, dim: D, count: H * W, data });
      grids.push({ gridH: H, gridW: W, geometry: { origW: 96, origH: 96, resizedW: 96, resizedH: 96, cropX: 0, cropY: 0, cropW: 96, cropH: 96 } });
      truths.push(truth);
      rowsOf.push(data);
    }
    return { store, grids, truths, rowsOf, H, W, D };
  })();
}

test('auto: on for an object that stays in place, off for a texture and for an object that moves', async () => {
  const stable = await plantedStore(30, {});
  const on = fitForeground(stable.store, stable.grids, { mode: 'auto' })!;
  assert.equal(on.mask, 'pca', on.reason);
  assert.match(on.reason, /^PCA mask on: separation/);
  // the object is the positive side: the raw mask is the planted object
  for (const [i, truth] of stable.truths.entries())
    assert.deepEqual(pcaRaw({ gridH: 12, gridW: 12, dim: 16, count: 144, data: stable.rowsOf[i] }, on.pca!), truth);
  const texture = await plantedStore(30, { texture: true });
  const t = fitForeground(texture.store, texture.grids, { mode: 'auto' })!;
  assert.equal(t.mask, 'none', t.reason);
  assert.ok(t.pca === undefined && t.reason.startsWith('off:'));
  const moving = await plantedStore(30, { moving: true });
  const m = fitForeground(moving.store, moving.grids, { mode: 'auto' })!;
  assert.equal(m.mask, 'none', m.reason);
  assert.ok(m.reason.includes('agreement'));
  // `pca` forces the mask where auto declines
  assert.equal(fitForeground(moving.store, moving.grids, { mode: 'pca' })!.mask, 'pca');
  assert.equal(fitForeground(moving.store, moving.grids, { mode: 'off' }), undefined);
  for (const s of [stable, texture, moving]) s.store.close();
});

test('meanIoU against the majority mask, by hand', () => {
  const a = Uint8Array.from([1, 1, 0, 0]),
    b = Uint8Array.from([1, 1, 0, 0]),
    c = Uint8Array.from([0, 1, 1, 0]);
  // majority: [1, 1, 0, 0]; IoUs 1, 1, 1/3
  assert.ok(Math.abs(meanIoU([a, b, c]) - (2 + 1 / 3) / 3) < 1e-12);
});

test('leave-one-out under a foreground mask: background cells score zero, pruned equals plain', async () => {
  const { store, grids, truths } = await plantedStore(12, { moving: true }, 7);
  const fg = fitForeground(store, grids, { mode: 'pca' })!;
  const fb = await bankFromStore(store, { ratio: 0.3, seed: 0, scoring: DEFAULT_SCORING });
  const o = { foreground: fg };
  const pruned = await leaveOneOutScores({ store: store, images: grids }, fb, DEFAULT_SCORING, o);
  const plain = await leaveOneOutScoresPlain({ store: store, images: grids }, fb, DEFAULT_SCORING, o);
  const unmasked = await leaveOneOutScoresPlain({ store: store, images: grids }, fb, DEFAULT_SCORING);
  pruned.image.forEach((v, i) => assert.ok(Math.abs(v - plain.image[i]) <= 1e-6 * plain.image[i], `image ${i}: ${v} vs ${plain.image[i]}`));
  pruned.pixel.forEach((v, i) => assert.ok(Math.abs(v - plain.pixel[i]) <= 1e-3 * plain.pixel[i], `map max ${i}: ${v} vs ${plain.pixel[i]}`));
  // the mask only removes patches, so no image scores higher; some score lower (the background's noise is gone)
  plain.image.forEach((v, i) => assert.ok(v <= unmasked.image[i] + 1e-9));
  assert.ok(plain.image.some((v, i) => v < unmasked.image[i] - 1e-6));
  assert.ok(truths.length === 12);
  await fb.nn.release();
  store.close();
});

// End to end on planted images: washers (dark, centred) on a light background.
const SIZE = 224;

/**
 * A good washer with a dust cloud in the background's corner (dense dark specks, every 17th pixel):
 * anomalous, but background. A defect that looks like the part (a dark blob, hard-edged stripes) lands
 * on the object's side of the principal axis and stays scored: the PCA mask removes background that
 * looks like background, as measured while writing this test.
 */
function backgroundDefect(seed: number): RgbImage {
  const img = syntheticSample(seed, 'good', SIZE).image;
  for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) if ((x * 7 + y * 13) % 17 === 0) img.data.fill(120, (y * SIZE + x) * 3, (y * SIZE + x) * 3 + 3);
  return img;
}

test('planted images: a background defect is flagged with --foreground off, not with pca or range; a crack on the part is found by all three', async (t) => {
  const dir = tempDir();
  const files: string[] = [];
  for (let i = 0; i < 20; i++) {
    const f = path.join(dir, `good_${i}.png`);
    await writeFileAtomic(f, await encodePng(syntheticSample(700 + i, 'good', SIZE).image));
    files.push(f);
  }
  const backbone = await loadBackbone('inception_v3');
  const fit = (foreground: 'off' | 'pca' | 'range') =>
    PatchCore.fit(files, backbone, {
      preprocess: { resize: SIZE, crop: SIZE },
      background: null,
      featureDim: 0,
      ratio: 0.1,
      seed: 0,
      scoring: DEFAULT_SCORING,
      targetFpr: 0.1,
      foreground,
    });
  const bg = backgroundDefect(902),
    crack = syntheticSample(901, 'crack', SIZE).image,
    good = syntheticSample(902, 'good', SIZE).image;
  const results: Record<string, { bg: number; crack: number; good: number; threshold: number }> = {};
  for (const mode of ['off', 'pca', 'range'] as const) {
    const m = await fit(mode);
    results[mode] = { bg: (await m.predict(bg)).score, crack: (await m.predict(crack)).score, good: (await m.predict(good)).score, threshold: m.threshold };
    t.diagnostic(`${mode}: ${JSON.stringify(results[mode])}${m.config.foreground ? ` ${m.config.foreground.reason}` : ''}`);
    if (mode === 'off') assert.equal(m.config.foreground, undefined);
    else {
      // saved and loaded, the model masks the same way; the export carries pca (test/export-foreground.test.ts) and refuses range in one line
      const out = tempDir();
      await m.save(out);
      const back = await PatchCore.load(out, backbone);
      assert.deepEqual(back.config.foreground, m.config.foreground);
      assert.equal((await back.predict(bg)).score, results[mode].bg);
      if (mode === 'range')
        await assert.rejects(
          exportModel(back),
          (e: unknown) => e instanceof UserError && /RGB-range foreground mask .* original image/.test(e.message) && !e.message.includes('\n'),
        );
    }
  }
  assert.ok(results.off.bg > results.off.threshold, 'off flags the background defect');
  for (const mode of ['pca', 'range'] as const) {
    assert.ok(results[mode].bg <= results[mode].threshold, `${mode} does not flag the background defect`);
    assert.ok(results[mode].crack > results[mode].threshold, `${mode} finds the crack`);
    assert.ok(results[mode].good <= results[mode].threshold, `${mode} passes a good part`);
  }
  assert.ok(results.off.crack > results.off.threshold);
});

test("foregroundCells: a range model without the image's range cells is a programming error, not a silent no-mask", () => {
  const fg: ForegroundConfig = { requested: 'range', mask: 'range', reason: '', close: 1, dilate: 1, range: { lo: [150, 150, 150], hi: [255, 255, 255] } };
  assert.throws(() => foregroundCells(fg, { gridH: 2, gridW: 2, dim: 1, count: 4, data: new Float32Array(4) }), /needs the image/);
  assert.equal(foregroundCells(undefined, { gridH: 2, gridW: 2, dim: 1, count: 4, data: new Float32Array(4) }), null);
  assert.ok(project(new Float32Array([1, 2]), 1, 2, [0, 0], [1, 1])[0] === 3);
});

test('model.json foreground: a valid entry passes; a wrong axis length or a pca mask without its axis is named', async () => {
  const { parseModelConfig } = await import('../src/model/config-schema.js');
  const { MODEL_FORMAT } = await import('../src/model/config.js');
  const H = 'a'.repeat(64);
  const base = {
    format: MODEL_FORMAT,
    createdAt: 'd',
    backbone: { id: 'inception_v3', hash: H, layers: ['a', 'b'] },
    preprocess: { resize: 256, crop: 224, mean: [0, 0, 0], std: [1, 1, 1] },
    background: null,
    featureDim: 0,
    coreset: { ratio: 0.1, seed: 0, trainPatches: 100 },
    scoring: DEFAULT_SCORING,
    bank: { file: 'bank.bin', sha256: H, size: 10, dim: 3, b: 0 },
    trainScores: { mean: 1, std: 0.1, max: 2, n: 8 },
    threshold: 1.5,
    thresholdInfo: { method: 'manual', n: 0, date: 'd' },
    pixelThreshold: null,
    normalization: { scale: 0.1 },
  };
  const pca = { axis: [1, 0, 0], offset: 0.5, cut: 0.1, separation: 0.8, agreement: 0.7, share: 0.4 };
  const fg = { requested: 'auto', mask: 'pca', reason: 'r', close: 1, dilate: 1, pca };
  const parse = (foreground: unknown) => parseModelConfig(JSON.stringify({ ...base, foreground }), 'model.json');
  assert.deepEqual(parse(fg).foreground, fg);
  assert.throws(() => parse({ ...fg, pca: { ...pca, axis: [1, 0] } }), {
    message: "Expected 3 numbers (the bank's dim) for model.json foreground.pca.axis but received an array of 2",
  });
  assert.throws(() => parse({ ...fg, pca: undefined }), {
    message: 'Expected a pca entry for mask "pca", a range for mask "range" for model.json foreground but received an object',
  });
  assert.throws(() => parse({ ...fg, requested: 'on' }), {
    message: 'Expected "off", "auto", "pca" or "range" for model.json foreground.requested but received "on"',
  });
});

test('CLI: a bad --foreground is one line and exit 2; sweep refuses a mask', async () => {
  const { runCli } = await import('./helpers.js');
  const bad = runCli('fit', '--data', 'nowhere', '--out', 'x', '--foreground', 'on');
  assert.equal(bad.code, 2);
  assert.equal(bad.err.trim(), 'patchcore: error: Expected "off", "auto", "pca" or "range" for --foreground but received "on"');
  const sweep = runCli('sweep', '--data', 'nowhere', '--out', 'x', '--foreground', 'pca');
  assert.equal(sweep.code, 2);
  assert.match(
    sweep.err.trim(),
    /^patchcore: error: Expected "off" \(sweep compares background filters without a foreground mask\) for --foreground but received "pca"$/,
  );
});
