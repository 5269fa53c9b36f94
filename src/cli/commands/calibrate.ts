import * as path from 'node:path';
import { DEVICE, WEIGHTS } from '../args.js';
import { flag, number, required, text, type CommandSpec } from '../options.js';
import { PatchCore } from '../../model/patchcore.js';
import { labelledImages } from '../../data/dataset.js';
import { feedbackDir, feedbackItems } from '../../model/feedback.js';
import { loadMask } from '../../image/load.js';
import { confusion, f1Of, f1Threshold, pixelThresholdFromMasks, recallThreshold } from '../../model/calibrate.js';
import type { ThresholdInfo } from '../../model/config.js';
import type { ScoreMap } from '../../types.js';
import { UserError } from '../../util/errors.js';
import { makeProgress } from '../progress.js';
import { runCommand } from './common.js';

const CALIBRATE_OPTIONS = {
  model: required('MODEL_DIR', 'the model directory whose threshold is set (model.json is rewritten)', 'a model directory'),
  data: text('DIR', 'labelled images: MVTec layout (test/good, test/<defect>, ground_truth/<defect>) or a folder with good/ and one folder per defect type'),
  'from-feedback': flag(
    'instead of --data: the parts labelled at the station (MODEL_DIR/feedback, from POST /v1/feedback); goods an update already added to the bank are left out',
  ),
  'min-recall': number(
    'R',
    'instead of F1-max: the threshold with the fewest false alarms that still catches R (0..1] of the defective images',
    'a share in (0, 1]',
    undefined,
    (x) => x > 0 && x <= 1,
  ),
  'dry-run': flag('print, do not save'),
  device: DEVICE,
  weights: WEIGHTS,
} as const;

export const CALIBRATE: CommandSpec<typeof CALIBRATE_OPTIONS> = {
  name: 'calibrate',
  usage: '--model MODEL_DIR (--data DIR | --from-feedback) [--min-recall R] [--dry-run]',
  about: `Sets the model's threshold from labelled images and saves it into MODEL_DIR/model.json: by
default the F1-max threshold (the best balance of missed defects and false alarms). With masks
(ground_truth/<defect>/<name>_mask.png) the pixel threshold for --masks and regions is set too, by
pixel F1-max. Prints the confusion matrix first.`,
  options: CALIBRATE_OPTIONS,
};

export const calibrateCommand = runCommand(CALIBRATE, async (v) => {
  const dir = v.model;
  if ((v.data === undefined) === !v['from-feedback']) throw new UserError('calibrate: give --data DIR or --from-feedback (one of them)');
  const minRecall = v['min-recall'];
  const dev = v.device;
  const { test, hasMasks, data } = v.data !== undefined ? { ...(await labelledImages(v.data)), data: v.data } : await fromFeedback(dir);
  const model = await PatchCore.open(dir, { device: dev, weights: v.weights });
  const progress = makeProgress(v.quiet);

  const scores: number[] = [];
  const maps: ScoreMap[] = [];
  const masks: Uint8Array[] = [];
  const extractor = model.extractor;
  let i = 0;
  for await (const e of extractor.extractFiles(test.map((t) => t.file))) {
    const r = await model.predictFeatures(e.features, e.geometry, e.foreground);
    scores.push(r.score);
    const item = test[i++];
    if (hasMasks) {
      maps.push(r.mapOriginal);
      masks.push(item.mask ? await maskOf(item.mask, r.mapOriginal) : new Uint8Array(r.mapOriginal.width * r.mapOriginal.height));
    }
    progress('scoring', i, test.length);
  }
  const labels = test.map((t) => t.label);
  const threshold = minRecall === undefined ? f1Threshold(scores, labels) : recallThreshold(scores, labels, minRecall);
  const c = confusion(scores, labels, threshold);
  const n = { good: c.tn + c.fp, bad: c.tp + c.fn };
  const info: ThresholdInfo = {
    method: minRecall === undefined ? 'f1-max' : 'min-recall',
    n: test.length,
    date: new Date().toISOString(),
    f1: f1Of(c),
    recall: c.tp / n.bad,
    fpr: c.fp / n.good,
  };
  const w = (x: number | string) => String(x).padStart(10);
  process.stdout.write(
    `${test.length} labelled images (${n.good} good, ${n.bad} defective) from ${data}\n` +
      `threshold ${threshold.toFixed(4)} (${info.method}${minRecall !== undefined ? ` ${minRecall}` : ''}; was ${model.config.threshold.toFixed(4)}, ${model.config.thresholdInfo.method})\n` +
      `${''.padEnd(14)}${w('good')}${w('anomalous')}   <- verdict\n` +
      `${'good'.padEnd(14)}${w(c.tn)}${w(c.fp)}\n` +
      `${'defective'.padEnd(14)}${w(c.fn)}${w(c.tp)}\n` +
      `F1 ${info.f1!.toFixed(4)}, defects caught ${(100 * info.recall!).toFixed(1)} %, false alarms ${(100 * info.fpr!).toFixed(1)} %\n`,
  );
  model.setThreshold(threshold, info);
  if (hasMasks) {
    const pt = pixelThresholdFromMasks(maps, masks);
    model.setPixelThreshold(pt, { method: 'f1-max', n: test.length, date: info.date });
    process.stdout.write(`pixel threshold ${pt.toFixed(4)} (pixel F1-max over the masks)\n`);
  }
  if (v['dry-run']) return 0;
  await model.saveConfig(dir);
  process.stdout.write(`saved into ${path.join(dir, 'model.json')} [model ${model.modelId}]\n`);
  return 0;
});

/** The station's labels as labelled images (no masks). */
async function fromFeedback(dir: string) {
  const { items, leftOut } = await feedbackItems(dir);
  return { test: items, hasMasks: false, data: `${feedbackDir(dir)}${leftOut ? ` (${leftOut} applied or unreadable label(s) left out)` : ''}` };
}

async function maskOf(file: string, map: ScoreMap): Promise<Uint8Array> {
  const m = await loadMask(file);
  if (m.width !== map.width || m.height !== map.height)
    throw new UserError(`${file}: mask is ${m.width}x${m.height} but its image is ${map.width}x${map.height}`);
  return m.data;
}
