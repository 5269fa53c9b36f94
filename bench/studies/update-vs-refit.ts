// `update` against a full refit (issue 24, part 1): fit on 90 % of train/good (a seeded split), add
// the other 10 % with update, and fit again on all of it, for several coreset seeds, side by side in
// one process. Reports
// - test-set score agreement: each image's update − refit difference (same seed) against the spread
//   of the refit's scores across coreset seeds, and image AUROC both ways;
// - coverage: every training patch's distance to the updated bank on the coreset's projections
//   (ONNX Runtime search over all rows, the largest ones and a random sample checked brute force in
//   float64) against the radius recorded at fit;
// - time: the update (its images' extraction + updateWithFeatures) over the refit's (int8
//   calibration + extraction of every image + store, coreset, radius, leave-one-out threshold), and
//   the radius's share of the refit.
// Features are extracted once, with one extractor calibrated on all training images (an update uses
// its model's calibration, made from the 90 %; the difference is not measured here).
//   npm run bench -- update-vs-refit --data DIR [--preset v3] [--ratio R] [--seeds 0,1,2] [--split-seed 0] [--out scores.json]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDataset } from '../../src/data/dataset.js';
import { loadBackbone } from '../../src/backbone/index.js';
import { createExtractor } from '../../src/model/extract.js';
import { updateWithFeatures } from '../../src/model/update.js';
import { OrtProjector } from '../../src/memory/projection.js';
import { PairwiseKnn } from '../../src/scoring/pairwise-knn.js';
import { ortNearest, plainNearest } from '../../src/memory/cover.js';
import { relativeNames } from '../../src/data/common-folder.js';
import { Rng, permutation } from '../../src/util/rng.js';
import type { MemoryBank } from '../../src/types.js';
import { presetNamed } from '../lib/settings.js';
import { aurocOf } from '../lib/bootstrap.js';
import { arg } from '../lib/args.js';
import { cachedFeatures, extractAllFiles, fitFeatures, scoresAgainst, type Feats } from '../lib/fit-features.js';

const data = arg('data', '../shared/datasets/mvtec3d_tire');
const preset = presetNamed(arg('preset', 'v3'));
const ratio = Number(arg('ratio', String(preset.ratio)));
const seeds = arg('seeds', '0,1,2').split(',').map(Number);
const splitSeed = Number(arg('split-seed', '0'));
const out = arg('out', '');
const targetFpr = 0.05;
const load = () => os.loadavg()[0].toFixed(1);
const ds = await loadDataset(data);
console.log(`${path.basename(data)}, ${preset.description}, coreset ${ratio}, seeds ${seeds.join(',')}; ${new Date().toISOString()}, load ${load()}`);

const backbone = await loadBackbone(preset.backbone);
let t0 = Date.now();
const ex = await createExtractor(ds.train, backbone, {
  preprocess: preset.preprocess,
  background: null,
  featureDim: preset.featureDim,
  precision: preset.precision,
});
const calibrateS = (Date.now() - t0) / 1000;
const trainNames = relativeNames(ds.train);
const key = `${path.basename(data)}-${preset.description}`;
const { feats: train } = await cachedFeatures(ex, ds.train, trainNames, `${key}-train`);
const { feats: test } = await cachedFeatures(
  ex,
  ds.test.map((t) => t.file),
  relativeNames(ds.test.map((t) => t.file)),
  `${key}-test`,
);
const labels = ds.test.map((t) => t.label);
const mapStride = backbone.spec.strides[0];
const order = permutation(train.length, new Rng(splitSeed));
const nNew = Math.round(train.length / 10);
const isNew = new Set(order.subarray(0, nNew));
const base = train.filter((_, i) => !isNew.has(i));
// the update's images extracted here, timed in this process (the rest may come from the cache)
const { feats: added, perImage } = await extractAllFiles(
  ex,
  ds.train.filter((_, i) => isNew.has(i)),
  trainNames.filter((_, i) => isNew.has(i)),
);
await ex.release();
console.log(
  `int8 calibration ${calibrateS.toFixed(1)} s, extraction ${perImage.toFixed(3)} s per image; ${base.length} + ${added.length} training images, ${test.length} test images`,
);

/** Largest distance from any training patch to `bank` on the seed's projections, the ORT search checked brute force. */
async function coverage(bank: MemoryBank, seed: number, radius: number) {
  const D = bank.dim,
    P = 128;
  const proj = await OrtProjector.create(D, P, seed);
  const knn = await PairwiseKnn.create(P);
  try {
    const bankZ = await proj.project(bank.data, bank.size);
    const part = async (fs: Feats[]) => {
      let max = 0;
      const worst: { z: Float32Array; d: number }[] = [];
      const rng = new Rng(seed + 7);
      const sample: { z: Float32Array; d: number }[] = [];
      for (const f of fs) {
        const z = await proj.project(f.features.data, f.features.count);
        const d = await ortNearest(knn)({ data: z, n: f.features.count, dim: P }, { data: bankZ, n: bank.size, dim: P });
        let a = 0;
        for (let r = 0; r < d.length; r++) if (d[r] > d[a]) a = r;
        max = Math.max(max, d[a]);
        worst.push({ z: z.slice(a * P, (a + 1) * P), d: d[a] });
        for (let j = 0; j < 5; j++) {
          const r = Math.floor(rng.next() * f.features.count);
          sample.push({ z: z.slice(r * P, (r + 1) * P), d: d[r] });
        }
      }
      // brute force on each image's farthest patch and 5 random ones
      const rows = [...worst, ...sample];
      const flat = new Float32Array(rows.length * P);
      rows.forEach((x, i) => flat.set(x.z, i * P));
      const exact = await plainNearest({ data: flat, n: rows.length, dim: P }, { data: bankZ, n: bank.size, dim: P });
      let maxExact = 0,
        maxDiff = 0;
      rows.forEach((x, i) => {
        maxExact = Math.max(maxExact, exact[i]);
        maxDiff = Math.max(maxDiff, Math.abs(exact[i] - x.d));
      });
      return { max, maxExact, maxDiff, checked: rows.length };
    };
    const b = await part(base),
      n = await part(added);
    return `old 90 %: max ${b.max.toFixed(4)} (brute force ${b.maxExact.toFixed(4)}), new 10 %: max ${n.max.toFixed(4)} (brute force ${n.maxExact.toFixed(4)}); radius ${radius.toFixed(4)}: ${Math.max(b.max, n.max, b.maxExact, n.maxExact) <= radius * (1 + 1e-5) ? 'COVERED' : 'NOT covered'} (ORT vs float64 on ${b.checked + n.checked} rows: max |diff| ${Math.max(b.maxDiff, n.maxDiff).toExponential(1)})`;
  } finally {
    await knn.release();
    await proj.release();
  }
}

const refitScores: number[][] = [],
  updatedScores: number[][] = [];
const rows: string[] = [];
for (const seed of seeds) {
  const fit90 = await fitFeatures(base, { ratio, seed, targetFpr, mapStride });
  fit90.store.close();
  const before = await scoresAgainst(test, fit90.fitted);
  t0 = Date.now();
  const u = await updateWithFeatures({ config: fit90.config, fitted: fit90.fitted, parent: 'parent' }, added);
  const updateS = (Date.now() - t0) / 1000 + perImage * added.length;
  const updated = await scoresAgainst(test, u.bank!);
  const cover = await coverage(u.bank!.bank, seed, fit90.config.coreset.radius!);
  await fit90.fitted.nn.release();
  await u.bank!.nn.release();

  const refit = await fitFeatures(train, { ratio, seed, targetFpr, mapStride });
  refit.store.close();
  const refitted = await scoresAgainst(test, refit.fitted);
  await refit.fitted.nn.release();
  const s = refit.seconds;
  const refitS = calibrateS + perImage * train.length + s.store + s.coreset + s.radius + s.threshold;
  refitScores.push(refitted);
  updatedScores.push(updated);
  // each seed's scores as it ends, so that a run cut short can still be compared
  if (out) fs.writeFileSync(out, JSON.stringify({ labels, refitScores, updatedScores }));
  console.log(
    `seed ${seed} (load ${load()}): fit 90 % bank ${fit90.fitted.bank.size}, update +${u.added} entries, threshold ${fit90.config.threshold.toFixed(3)} -> ${u.config!.threshold.toFixed(3)} (refit ${refit.config.threshold.toFixed(3)})`,
  );
  console.log(`  coverage: ${cover}`);
  console.log(
    `  refit ${refitS.toFixed(1)} s (calibration ${calibrateS.toFixed(1)}, extraction ${(perImage * train.length).toFixed(1)}, store ${s.store.toFixed(1)}, coreset ${s.coreset.toFixed(1)}, radius ${s.radius.toFixed(1)}, threshold ${s.threshold.toFixed(1)}); update ${updateS.toFixed(1)} s (extraction ${(perImage * added.length).toFixed(1)}) = ${((100 * updateS) / refitS).toFixed(1)} % of the refit; radius ${((100 * s.radius) / refitS).toFixed(1)} % of the refit`,
  );
  rows.push(
    `| ${seed} | ${aurocOf(before, labels).toFixed(4)} | ${aurocOf(updated, labels).toFixed(4)} | ${aurocOf(refitted, labels).toFixed(4)} | ${u.added} | ${fit90.config.threshold.toFixed(3)} → ${u.config!.threshold.toFixed(3)} | ${refit.config.threshold.toFixed(3)} | ${updateS.toFixed(1)} / ${refitS.toFixed(1)} = ${((100 * updateS) / refitS).toFixed(1)} % | ${((100 * s.radius) / refitS).toFixed(1)} % |`,
  );
}

// agreement: per image, update − refit at the same seed, against the refit's spread over seeds
const n = test.length,
  S = seeds.length;
const sd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const spread = Array.from({ length: n }, (_, i) => sd(refitScores.map((r) => r[i])));
const diffs = Array.from({ length: n }, (_, i) => updatedScores.map((u, k) => u[i] - refitScores[k][i]));
const absDiff = diffs.map((d) => d.reduce((a, b) => a + Math.abs(b), 0) / S);
const meanDiff = diffs.map((d) => d.reduce((a, b) => a + b, 0) / S);
const within = absDiff.filter((d, i) => d <= 2 * spread[i]).length;
const updSpread = Array.from({ length: n }, (_, i) => sd(updatedScores.map((r) => r[i])));
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `\n| seed | AUROC fit 90 % | AUROC updated | AUROC refit | entries added | threshold fit 90 % → updated | refit threshold | update / refit time | radius share of refit |`,
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log(
  `\nper-image scores, ${n} test images, ${S} seeds: |update − refit| mean ${meanOf(absDiff).toFixed(4)}, median ${median(absDiff).toFixed(4)}, max ${Math.max(...absDiff).toFixed(4)}; ` +
    `signed mean ${meanOf(meanDiff).toFixed(4)}; refit's spread across seeds (sd) mean ${meanOf(spread).toFixed(4)}, median ${median(spread).toFixed(4)}; update's own spread mean ${meanOf(updSpread).toFixed(4)}; ` +
    `images with mean |update − refit| ≤ 2 sd of the refit's seeds: ${within} of ${n}`,
);
// the yardstick: how far two refits at different coreset seeds are apart, image by image
const pairs: string[] = [];
for (let a = 0; a < S; a++) for (let b = a + 1; b < S; b++) pairs.push(meanOf(refitScores[a].map((x, i) => Math.abs(x - refitScores[b][i]))).toFixed(4));
console.log(
  `mean |update − refit| per seed (same seed): ${updatedScores.map((u, k) => meanOf(u.map((x, i) => Math.abs(x - refitScores[k][i]))).toFixed(4)).join(', ')}; mean |refit − refit| between seeds: ${pairs.join(', ')}`,
);
const meanScores = (m: number[][]) => Array.from({ length: n }, (_, i) => meanOf(m.map((r) => r[i])));
console.log(
  `AUROC of the seed-mean scores: updated ${aurocOf(meanScores(updatedScores), labels).toFixed(4)}, refit ${aurocOf(meanScores(refitScores), labels).toFixed(4)}; load ${load()}`,
);
