// Per-stage timings of PatchCore.predict, one image at a time (inception_v3, 60 train / 40 test
// screw images). The plain versions the fast stages replaced are checked for equal outputs by the
// tests (features, predict-speed), so only the current src is timed here.
// Run: npm run bench -- predict-stages [--reps 3] [--train 60] [--test 40] [--ratio 0.1]   (or by position)
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadBackbone } from '../../src/backbone/index.js';
import { PatchCore } from '../../src/model/patchcore.js';
import { scoreFeatures } from '../../src/model/bank.js';
import { toOriginal } from '../../src/scoring/anomaly-map.js';
import { DEFAULT_SCORING } from '../../src/model/config.js';
import { loadImage } from '../../src/image/load.js';
import { preprocess } from '../../src/image/preprocess.js';
import { aggregate } from '../../src/features/aggregate.js';
import { anomalyMap } from '../../src/scoring/anomaly-map.js';
import { argAt } from '../lib/args.js';

const reps = Number(argAt('reps', 0, '3'));
const nTrain = Number(argAt('train', 1, '60'));
const nTest = Number(argAt('test', 2, '40'));
const ratio = Number(argAt('ratio', 3, '0.1'));
const ROOT = path.join(process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared'), 'datasets', 'mvtec_screw');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
async function timed<T>(fn: () => T | Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

const trainDir = path.join(ROOT, 'train/good');
const train = (await fs.readdir(trainDir))
  .sort()
  .slice(0, nTrain)
  .map((f) => path.join(trainDir, f));
const testFiles: string[] = [];
for (const d of ['good', 'defect']) {
  const dir = path.join(ROOT, 'test', d);
  testFiles.push(...(await fs.readdir(dir)).sort().map((f) => path.join(dir, f)));
}
const step = testFiles.length / nTest;
const test = Array.from({ length: nTest }, (_, i) => testFiles[Math.floor(i * step)]);

const backbone = await loadBackbone('inception_v3');
const t0 = performance.now();
const model = await PatchCore.fit(train, backbone, {
  preprocess: { resize: 256, crop: 224 },
  background: null,
  featureDim: 0,
  ratio,
  seed: 0,
  scoring: { ...DEFAULT_SCORING },
});
console.log(`fit ${train.length} images in ${((performance.now() - t0) / 1000).toFixed(1)} s, bank ${model.fitted.bank.size}×${model.fitted.bank.dim}`);
const cfg = model.config.preprocess;
const sigma = model.config.scoring.sigma;

const stages = ['decode', 'preprocess', 'backbone', 'aggregate', 'nn', 'map', 'toOriginal', 'predict', 'predict+mapOriginal'] as const;
const T = Object.fromEntries(stages.map((s) => [s, [] as number[]])) as Record<(typeof stages)[number], number[]>;

for (let rep = -1; rep < reps; rep++) {
  // rep −1 warms up
  for (const file of test) {
    const [img, dDecode] = await timed(() => loadImage(file));
    const [p, dPre] = await timed(() => preprocess(img, cfg));
    const [maps, dNet] = await timed(() => backbone.run(p.tensor));
    const [f, dAgg] = await timed(() => aggregate(maps[0], { dim: 0 }));
    const [s, dNn] = await timed(() => scoreFeatures(f, model.fitted, model.config.scoring));
    const g = p.geometry;
    const [map, dMap] = await timed(() => anomalyMap(s.patches, g.cropW, g.cropH, sigma));
    const [, dOrig] = await timed(() => toOriginal(map, g));
    // end to end through the public API, with and without reading mapOriginal
    const [, dPred] = await timed(() => model.predict(img));
    const [, dPredOrig] = await timed(async () => (await model.predict(img)).mapOriginal);
    if (rep < 0) continue;
    T.decode.push(dDecode), T.preprocess.push(dPre), T.backbone.push(dNet), T.aggregate.push(dAgg), T.nn.push(dNn);
    T.map.push(dMap), T.toOriginal.push(dOrig), T.predict.push(dPred), T['predict+mapOriginal'].push(dPredOrig);
  }
}

console.log(
  `\n${test.length} test images × ${reps} reps, medians in ms; load ${(await fs.readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`,
);
for (const s of stages) console.log(`${s.padEnd(22)} ${median(T[s]).toFixed(2).padStart(8)}`);
