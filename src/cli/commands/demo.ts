import * as path from 'node:path';
import { withDefault, type CommandSpec } from '../options.js';
import { writeSyntheticDataset } from '../../data/synthetic.js';
import { loadDataset } from '../../data/dataset.js';
import { loadBackbone } from '../../backbone/index.js';
import { PatchCore } from '../../model/patchcore.js';
import { DEFAULT_PRESET, DEFAULT_SCORING, PRESETS } from '../../model/config.js';
import { comparisonTable, reportVariants } from './demo-compare.js';
import { loadImage } from '../../image/load.js';
import { overlayPng } from '../../report/overlay.js';
import { auroc, f1Max, formatMetric } from '../../metrics/index.js';
import { checkOutputDir, writeFileAtomic } from '../../util/atomic.js';
import { makeProgress } from '../progress.js';
import { runCommand } from './common.js';

const DEMO_OPTIONS = {
  out: withDefault('DIR', 'where the synthetic set, heatmaps, model and summary go', 'demo-out'),
} as const;

export const DEMO: CommandSpec<typeof DEMO_OPTIONS> = {
  name: 'demo',
  usage: '[--out DIR]',
  about:
    "Generates a synthetic inspection set (washers with scratches, cracks, missing pieces), fits\nPatchCore with the default preset, scores the test set, writes heatmaps; then fits the report's\nbackground removal and neighbourhood score on the same set and prints them against the baseline.",
  options: DEMO_OPTIONS,
};

export const demoCommand = runCommand(DEMO, async (v) => {
  const out = v.out;
  await checkOutputDir('--out', out);
  const t0 = Date.now();
  const progress = makeProgress(v.quiet);
  const say = (s: string) => void (v.quiet ? undefined : process.stdout.write(s + '\n'));
  const dataDir = await writeSyntheticDataset(path.join(out, 'data'));
  say(`synthetic dataset: ${dataDir} (MVTec layout)`);
  const ds = await loadDataset(dataDir);
  const preset = PRESETS[DEFAULT_PRESET];
  const backbone = await loadBackbone(preset.backbone);
  const fitOpts = {
    preprocess: preset.preprocess,
    background: null,
    featureDim: preset.featureDim,
    precision: preset.precision,
    ratio: preset.ratio,
    seed: 0,
    scoring: DEFAULT_SCORING,
    progress,
  };
  const model = await PatchCore.fit(ds.train, backbone, fitOpts);
  const scores: number[] = [];
  const verdicts: boolean[] = [];
  const lines: string[] = [];
  for (const [i, t] of ds.test.entries()) {
    const img = await loadImage(t.file);
    const r = await model.predict(img);
    scores.push(r.score);
    verdicts.push(r.anomalous);
    const heat = path.join(out, 'heatmaps', `${t.defect}_${path.basename(t.file)}`);
    await writeFileAtomic(heat, await overlayPng(img, r.mapOriginal, { score: r.score, threshold: r.threshold }));
    lines.push(`| ${t.defect} | ${path.basename(t.file)} | ${r.score.toFixed(3)} | ${r.anomalous ? 'ANOMALOUS' : 'good'} |`);
    progress('scoring', i + 1, ds.test.length);
  }
  const labels = ds.test.map((t) => t.label);
  const a = auroc(scores, labels);
  const f = f1Max(scores, labels);
  await model.save(path.join(out, 'model'));
  const summary = [
    '# patchcore-ts demo',
    '',
    `train images: ${ds.train.length}; test images: ${ds.test.length}; bank ${model.config.bank.size} x ${model.config.bank.dim}`,
    `image AUROC: ${formatMetric(a)}; F1-max: ${f.value === null ? 'undefined' : f.value.toFixed(4)}`,
    verdictLine(scores, labels, model.config.threshold),
    '',
    '| type | image | score | verdict (train-based threshold) |',
    '|---|---|---|---|',
    ...lines,
    '',
  ].join('\n');
  say(`image AUROC: ${formatMetric(a)}  (${ds.test.length} test images, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  say(verdictLine(scores, labels, model.config.threshold));
  // the report's two changes on the same set (demo-compare.ts)
  const compared = comparisonTable(ds, [
    { name: 'baseline (PatchCore, nearest)', scores, anomalous: verdicts },
    ...(await reportVariants(ds, backbone, fitOpts)),
  ]);
  await writeFileAtomic(path.join(out, 'summary.md'), summary + '\n' + compared.join('\n') + '\n');
  say(['', ...compared, `(${((Date.now() - t0) / 1000).toFixed(1)} s in all)`].join('\n'));
  say(`heatmaps: ${path.join(out, 'heatmaps')}  model: ${path.join(out, 'model')}  summary: ${path.join(out, 'summary.md')}`);
  return 0;
});

/** What the saved threshold (fit's, from good images only) decides on the labelled test set. */
function verdictLine(scores: number[], labels: number[], threshold: number): string {
  const bad = labels.filter((l) => l === 1).length;
  const caught = scores.filter((s, i) => labels[i] === 1 && s > threshold).length;
  const alarms = scores.filter((s, i) => labels[i] === 0 && s > threshold).length;
  return `saved threshold ${threshold.toFixed(3)}: ${caught} of ${bad} defective parts caught, ${alarms} of ${labels.length - bad} good parts flagged`;
}
