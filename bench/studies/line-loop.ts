// The line, simulated: tire's test images in seeded shuffled orders; each false alarm on
// a good part is marked good and added with `update` before the next part; defects are never added.
// Reports per seed the false-alarm rate on good parts and the share of defects caught, over the
// whole stream and its second half, against the static model at the same setting. Then the
// simplest case: the first 12 good test images (by name) added at once, judged on the rest.
// Features of the test images are extracted once per setting (the model's own extractor).
//   npm run bench -- line-loop [--data DIR] [--ratios 0.005,0.01] [--seeds 0,1,2] [--target-fpr 0.05] [--threshold rederive|keep]
import { loadDataset } from '../../src/data/dataset.js';
import { loadBackbone } from '../../src/backbone/index.js';
import { PatchCore } from '../../src/model/patchcore.js';
import { DEFAULT_SCORING, PRESETS } from '../../src/model/config.js';
import type { NewImage } from '../../src/model/update.js';
import { loadImage } from '../../src/image/load.js';
import { relativeNames } from '../../src/data/common-folder.js';
import { Rng, permutation } from '../../src/util/rng.js';
import { arg } from '../lib/args.js';

const data = arg('data', '../shared/datasets/mvtec3d_tire');
const ratios = arg('ratios', '0.005,0.01').split(',').map(Number);
const seeds = arg('seeds', '0,1,2').split(',').map(Number);
const targetFpr = Number(arg('target-fpr', '0.05'));
const simplestOnly = arg('simplest-only', '0') === '1';
// rederive: update's default; keep: --keep-threshold (the bank grows, the threshold stays)
const keepThreshold = arg('threshold', 'rederive') === 'keep';
const ds = await loadDataset(data);
const names = relativeNames(ds.test.map((t) => t.file));
const preset = PRESETS.v3;
const backbone = await loadBackbone(preset.backbone);
const rate = (hits: number, of: number) => `${hits}/${of} (${of ? (hits / of).toFixed(3) : '-'})`;

for (const ratio of ratios) {
  const t0 = Date.now();
  const base = await PatchCore.fit(ds.train, backbone, {
    preprocess: preset.preprocess,
    background: null,
    featureDim: preset.featureDim,
    precision: preset.precision,
    ratio,
    seed: 0,
    scoring: DEFAULT_SCORING,
    targetFpr,
  });
  const fitS = (Date.now() - t0) / 1000;
  const feats: NewImage[] = [];
  for (const [i, t] of ds.test.entries()) {
    const e = await base.extractor.extract(await loadImage(t.file));
    feats.push({ file: names[i], features: e.features, geometry: e.geometry });
  }
  const staticScores = await Promise.all(feats.map(async (f) => (await base.predictFeatures(f.features, f.geometry)).score));
  console.log(
    `\n## coreset ${ratio}, threshold ${keepThreshold ? 'kept' : 're-derived'} at each update: fit ${fitS.toFixed(0)} s, bank ${base.config.bank.size}, threshold ${base.threshold.toFixed(3)}`,
  );
  const labels = ds.test.map((t) => t.label);
  const goods = labels.filter((l) => l === 0).length,
    bads = labels.length - goods;
  const sfa = staticScores.filter((s, i) => labels[i] === 0 && s > base.threshold).length;
  const scaught = staticScores.filter((s, i) => labels[i] === 1 && s > base.threshold).length;
  console.log(`static: false alarms ${rate(sfa, goods)}, defects caught ${rate(scaught, bads)}`);

  if (!simplestOnly)
    for (const seed of seeds) {
      const order = permutation(ds.test.length, new Rng(seed));
      let model = base;
      const tally = [0, 1].map(() => ({ fa: 0, good: 0, caught: 0, bad: 0, sfa: 0, scaught: 0 }));
      let updates = 0,
        added = 0,
        ms = 0;
      for (const [pos, i] of Array.from(order).entries()) {
        const r = await model.predictFeatures(feats[i].features, feats[i].geometry);
        for (const h of pos >= order.length / 2 ? [tally[0], tally[1]] : [tally[0]]) {
          if (labels[i] === 0) h.good++, (h.fa += +r.anomalous), (h.sfa += +(staticScores[i] > base.threshold));
          else h.bad++, (h.caught += +r.anomalous), (h.scaught += +(staticScores[i] > base.threshold));
        }
        if (labels[i] === 0 && r.anomalous) {
          const u0 = Date.now();
          const u = await model.updateFeatures([feats[i]], { keepThreshold });
          ms += Date.now() - u0;
          if (model !== base) await model.fitted.nn.release();
          model = u.model!;
          updates++;
          added += u.added;
        }
      }
      const [all, half] = tally;
      console.log(
        `seed ${seed}: whole stream: false alarms ${rate(all.fa, all.good)} (static ${rate(all.sfa, all.good)}), caught ${rate(all.caught, all.bad)} (static ${rate(all.scaught, all.bad)}); ` +
          `second half: false alarms ${rate(half.fa, half.good)} (static ${rate(half.sfa, half.good)}), caught ${rate(half.caught, half.bad)} (static ${rate(half.scaught, half.bad)}); ` +
          `${updates} updates, +${added} entries, threshold ${base.threshold.toFixed(3)} -> ${model.threshold.toFixed(3)}, ${(ms / Math.max(1, updates)).toFixed(0)} ms per update`,
      );
      if (model !== base) await model.fitted.nn.release();
    }

  // the simplest case: the first 12 good test images by name, added at once
  const goodIdx = ds.test.flatMap((t, i) => (t.label === 0 ? [i] : [])).sort((a, b) => (names[a] < names[b] ? -1 : 1));
  const first = goodIdx.slice(0, 12),
    rest = new Set(goodIdx.slice(12));
  const u0 = Date.now();
  const u = await base.updateFeatures(
    first.map((i) => feats[i]),
    { keepThreshold },
  );
  const m = u.model!;
  const uS = (Date.now() - u0) / 1000;
  let fa = 0,
    sfa2 = 0,
    caught = 0,
    lost: string[] = [];
  for (const [i, f] of feats.entries()) {
    if (labels[i] === 0 && !rest.has(i)) continue;
    const r = await m.predictFeatures(f.features, f.geometry);
    if (labels[i] === 0) (fa += +r.anomalous), (sfa2 += +(staticScores[i] > base.threshold));
    else {
      caught += +r.anomalous;
      if (!r.anomalous && staticScores[i] > base.threshold) lost.push(`${f.file} ${r.score.toFixed(3)}`);
    }
  }
  console.log(
    `simplest case: update with the first 12 good test images (+${u.added} entries, ${uS.toFixed(1)} s; threshold ${base.threshold.toFixed(3)} -> ${m.threshold.toFixed(3)}): ` +
      `false alarms among the other 13: ${fa} (static ${sfa2}); defects caught ${caught} of ${bads} (static ${scaught})`,
  );
  console.log(`  their leave-one-out scores: ${u.images.map((x) => x.leaveOneOut!.toFixed(2)).join(', ')}`);
  if (lost.length) console.log(`  defects no longer caught: ${lost.join('; ')}`);
  await m.fitted.nn.release();
  await base.fitted.nn.release();
}
