// Suspect training images (model/suspects.ts), measured: plant 5 defective test images among a
// dataset's train/good, fit scoring every training image leave-one-out, and count how many planted
// and how many clean images are flagged. The 5 are spread evenly over the defect images sorted by
// type and name (not chosen by score). Optionally fits again without the suspects and compares image
// AUROC on the test set less the planted images with a clean fit's.
//   npm run bench -- suspects --data DIR [--preset v3] [--alpha 0.01] [--exclude 1]
import * as path from 'node:path';
import { loadDataset } from '../../src/data/dataset.js';
import { loadBackbone } from '../../src/backbone/index.js';
import { PatchCore, type FitOptions } from '../../src/model/patchcore.js';
import { DEFAULT_SCORING } from '../../src/model/config.js';
import { loadImage } from '../../src/image/load.js';
import { relativeNames } from '../../src/data/common-folder.js';
import { presetNamed } from '../lib/settings.js';
import { arg } from '../lib/args.js';
import { findSuspects } from '../../src/model/suspects.js';
import { aurocOf } from '../lib/bootstrap.js';

const data = arg('data', '../shared/datasets/mvtec3d_tire');
const preset = presetNamed(arg('preset', 'v3'));
const alpha = Number(arg('alpha', '0.01'));
const exclude = arg('exclude', '0') === '1';
const ds = await loadDataset(data);
const defects = ds.test.filter((t) => t.label === 1).sort((a, b) => (a.file < b.file ? -1 : 1));
const planted = Array.from({ length: 5 }, (_, i) => defects[Math.floor(((i + 0.5) * defects.length) / 5)].file);
const files = [...ds.train, ...planted];
const names = relativeNames(files);
const plantedNames = new Set(names.slice(ds.train.length));
const backbone = await loadBackbone(preset.backbone);
const o: FitOptions = {
  preprocess: preset.preprocess,
  background: null,
  featureDim: preset.featureDim,
  precision: preset.precision,
  ratio: preset.ratio,
  seed: 0,
  scoring: DEFAULT_SCORING,
  calibrationImages: 0,
  suspectAlpha: alpha,
};
const t0 = Date.now();
const model = await PatchCore.fit(files, backbone, o);
const s = model.config.suspects!;
const hit = s.images.filter((x) => plantedNames.has(x.file));
const clean = s.images.filter((x) => !plantedNames.has(x.file));
const looOf = new Map(model.config.leaveOneOut!.files.map((f, i) => [f, model.config.leaveOneOut!.image[i]]));
console.log(
  `${path.basename(data)} (${preset.description}): ${ds.train.length} clean + 5 planted, fit ${((Date.now() - t0) / 1000).toFixed(0)} s, bound ${s.bound.toFixed(3)} at α ${alpha}`,
);
console.log(`  planted flagged ${hit.length} of 5; clean flagged ${clean.length} of ${ds.train.length}`);
const loo = model.config.leaveOneOut!;
const cleanScores = loo.image.filter((_, i) => !plantedNames.has(loo.files[i])).sort((a, b) => a - b);
const q = (p: number) => cleanScores[Math.floor(p * (cleanScores.length - 1) + 0.5)];
console.log(`  clean leave-one-out scores: median ${q(0.5).toFixed(3)}, q90 ${q(0.9).toFixed(3)}, max ${q(1).toFixed(3)}`);
for (const a of [0.001, 0.01, 0.05, 0.1]) {
  const t = findSuspects(loo.files, loo.image, loo.files.length, a);
  const h = t.images.filter((x) => plantedNames.has(x.file)).length;
  console.log(`  α ${a}: bound ${t.bound.toFixed(3)}, planted flagged ${h} of 5, clean flagged ${t.images.length - h} of ${ds.train.length}`);
}
for (const f of plantedNames) console.log(`  planted ${f}: leave-one-out ${looOf.get(f)!.toFixed(3)}${hit.some((x) => x.file === f) ? ' FLAGGED' : ''}`);
for (const x of clean) console.log(`  clean flagged ${x.file}: ${x.score.toFixed(3)}`);
if (exclude) {
  const rest = ds.test.filter((t) => !planted.includes(t.file));
  const auroc = async (m: PatchCore) => {
    const scores: number[] = [];
    for (const t of rest) scores.push((await m.predict(await loadImage(t.file))).score);
    return aurocOf(
      scores,
      rest.map((t) => t.label),
    );
  };
  const without = await PatchCore.fit(files, backbone, { ...o, excludeSuspects: true });
  const cleanFit = await PatchCore.fit(ds.train, backbone, o);
  console.log(
    `  image AUROC on the ${rest.length} other test images: with planted ${(await auroc(model)).toFixed(4)}, --exclude-suspects ${(await auroc(without)).toFixed(4)}, clean fit ${(await auroc(cleanFit)).toFixed(4)}`,
  );
}
