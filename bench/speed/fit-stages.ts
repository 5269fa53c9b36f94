// Where fit time goes, per stage (features, coreset, threshold): `npm run bench -- fit-stages --data DIR [--ratio 0.1] [--backbone inception_v3] [--score nearest]`
// (or by position: DATA [ratio] [backbone] [score]).
import { trainImages } from '../../src/data/dataset.js';
import { loadBackbone } from '../../src/backbone/index.js';
import { PatchCore } from '../../src/model/patchcore.js';
import { DEFAULT_SCORING } from '../../src/model/config.js';
import { argAt } from '../lib/args.js';

const [data, ratio, backbone, score] = [argAt('data', 0, ''), argAt('ratio', 1, '0.1'), argAt('backbone', 2, 'inception_v3'), argAt('score', 3, 'nearest')];
const files = await trainImages(data);
const bb = await loadBackbone(backbone);
const first = new Map<string, number>(),
  last = new Map<string, number>();
const t0 = performance.now();
const model = await PatchCore.fit(files, bb, {
  preprocess: { resize: 256, crop: 224 },
  background: null,
  featureDim: 0,
  ratio: Number(ratio),
  seed: 0,
  scoring: { ...DEFAULT_SCORING, kind: score as 'nearest' },
  progress: (stage) => {
    const t = performance.now() - t0;
    if (!first.has(stage)) first.set(stage, t);
    last.set(stage, t);
  },
});
const total = performance.now() - t0;
const stages = [...first.keys()];
const row = stages.map((s, i) => `${s} ${((last.get(s)! - (i ? last.get(stages[i - 1])! : 0)) / 1000).toFixed(2)} s`);
console.log(
  `${data} ratio ${ratio} ${backbone} ${score}: total ${(total / 1000).toFixed(2)} s; ${row.join('; ')}; threshold share ${((100 * (last.get('threshold')! - last.get(stages[stages.indexOf('threshold') - 1])!)) / total).toFixed(1)} %; thr ${model.config.threshold.toFixed(4)}`,
);
