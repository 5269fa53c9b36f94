// Does fit's threshold keep its promise on good parts it never saw? K folds of train/good: each fold
// is fitted on the other folds exactly as fit does (coreset, leave-one-image-out scores of the
// default sample, conformal quantile at --target-fpr) and its held-out goods are scored. The share
// of held-out goods above their fold's threshold should be about A; a conformal threshold promises
// at most A on average (over draws of the calibration sample), so the check is against A with the
// binomial spread of the held-out count (n held-out goods: sd √(A(1−A)/n)).
//   npm run bench -- calibration-check --data DIR [--settings v3,v2,v1] [--ratios 0.005,0.01,0.1] [--folds 5] [--target-fpr 0.05]
import * as os from 'node:os';
import { loadDataset } from '../../src/data/dataset.js';
import { FeatureStore } from '../../src/memory/index.js';
import { bankFromStore, scoreFeatures } from '../../src/model/bank.js';
import { calibrationImages, leaveOneOutScores } from '../../src/model/threshold.js';
import { conformalThreshold } from '../../src/scoring/decision.js';
import { DEFAULT_SCORING } from '../../src/model/config.js';
import { extractorFor, presetNamed } from '../lib/settings.js';
import { arg } from '../lib/args.js';
import { featuresOf, folds } from './heldout.js';

const data = arg('data', '../shared/datasets/mvtec3d_tire');
const settings = arg('settings', 'v3').split(',');
const ratios = arg('ratios', '').split(',').filter(Boolean).map(Number);
const k = Number(arg('folds', '5'));
const A = Number(arg('target-fpr', '0.05'));
console.log(`${data}: ${k} folds, A ${A}; load ${os.loadavg()[0].toFixed(1)}, ${new Date().toISOString()}`);
const ds = await loadDataset(data);
const heldout = folds(ds.train.length, k);
for (const name of settings) {
  const p = presetNamed(name);
  const ex = await extractorFor(p, ds.train);
  const train = await featuresOf(ex, ds.train);
  await ex.release();
  for (const ratio of ratios.length ? ratios : [p.ratio]) {
    let above = 0,
      n = 0;
    const perFold: string[] = [];
    for (const out of heldout) {
      const skip = new Set(out);
      const keep = train.filter((_, i) => !skip.has(i));
      const store = new FeatureStore({ seed: 0, inMemory: true });
      try {
        for (const f of keep) await store.append(f);
        const fb = await bankFromStore(store, { ratio, seed: 0, scoring: DEFAULT_SCORING });
        // nominal geometry: only the image threshold is checked here, not the pixel one
        const images = keep.map((f) => ({
          gridH: f.gridH,
          gridW: f.gridW,
          geometry: { origW: 0, origH: 0, resizedW: 0, resizedH: 0, cropX: 0, cropY: 0, cropW: f.gridW * 8, cropH: f.gridH * 8 },
        }));
        const loo = await leaveOneOutScores({ store: store, images: images }, fb, DEFAULT_SCORING, { images: calibrationImages(A), seed: 0, mapStride: 8 });
        const t = conformalThreshold(loo.image, A).value;
        let a = 0;
        for (const i of out) a += +((await scoreFeatures(train[i], fb, DEFAULT_SCORING)).score > t);
        above += a;
        n += out.length;
        perFold.push(`${a}/${out.length}`);
        await fb.nn.release();
      } finally {
        store.close();
      }
    }
    const sd = Math.sqrt((A * (1 - A)) / n);
    console.log(
      `${name} coreset ${ratio}: held-out goods above fit's threshold ${above}/${n} = ${(above / n).toFixed(3)} (A ${A}, binomial sd ${sd.toFixed(3)}; ${(above / n - A) / sd > 2 ? 'ABOVE A by more than 2 sd' : 'within A + 2 sd'}); per fold ${perFold.join(' ')}`,
    );
  }
}
