import * as path from 'node:path';
import { DEVICE, THRESHOLD, WEIGHTS } from '../args.js';
import { flag, text, type CommandSpec } from '../options.js';
import { writeFileAtomic, checkOutputDir } from '../../util/atomic.js';
import { PatchCore } from '../../model/patchcore.js';
import { loadImage } from '../../image/load.js';
import type { RgbImage } from '../../types.js';
import { overlayPng } from '../../report/overlay.js';
import { UserError } from '../../util/errors.js';
import { runCommand } from './common.js';
import { OnnxPredictor } from '../../export/onnx-predict.js';

const PREDICT_OPTIONS = {
  model: text('MODEL_DIR', 'a model directory from `patchcore fit`'),
  onnx: text('FILE.onnx', 'an exported graph (`patchcore export`) instead of --model'),
  out: text('DIR', 'write IMG_heatmap.png overlays to DIR'),
  json: flag('print one JSON array instead of one line per image'),
  threshold: THRESHOLD,
  device: DEVICE,
  weights: WEIGHTS,
} as const;

export const PREDICT: CommandSpec<typeof PREDICT_OPTIONS> = {
  name: 'predict',
  usage: '--model MODEL_DIR | --onnx FILE.onnx  IMG... [--out DIR] [--json] [--threshold T]',
  about: "Prints each image's score and verdict; with --out writes IMG_heatmap.png overlays.",
  options: PREDICT_OPTIONS,
  positionals: true,
};

export const predictCommand = runCommand(PREDICT, async (v, positionals) => {
  if ((v.model === undefined) === (v.onnx === undefined)) throw new UserError('predict: give either --model MODEL_DIR or --onnx FILE.onnx (one of them)');
  if (positionals.length === 0) throw new UserError('predict: no images given');
  if (v.out !== undefined) await checkOutputDir('--out', v.out);
  const model = v.onnx !== undefined
    ? await OnnxPredictor.load(v.onnx, { device: v.device })
    : await PatchCore.open(v.model as string, { device: v.device, weights: v.weights });
  if (v.threshold !== undefined) model.setThreshold(v.threshold, '--threshold');
  const out = v.out ?? null;
  const rows: { file: string; score: number; threshold: number; anomalous: boolean; ms: number; heatmap?: string }[] = [];
  // decode the next image while the current one is scored (a two-stage pipeline)
  let next: Promise<RgbImage> | null = loadImage(positionals[0]);
  for (const [i, file] of positionals.entries()) {
    const t0 = performance.now();
    const img = await next!;
    next = i + 1 < positionals.length ? loadImage(positionals[i + 1]) : null;
    next?.catch(() => undefined); // reported when awaited
    const r = await model.predict(img);
    const row: (typeof rows)[number] = { file, score: r.score, threshold: r.threshold, anomalous: r.anomalous, ms: Math.round(performance.now() - t0) };
    if (out) {
      row.heatmap = path.join(out, `${path.basename(file).replace(/\.[^.]+$/, '')}_heatmap.png`);
      await writeFileAtomic(row.heatmap, await overlayPng(img, r.mapOriginal, { score: r.score, threshold: r.threshold }));
    }
    rows.push(row);
    if (!v.json) process.stdout.write(`${file}\t${r.score.toFixed(4)}\t${r.anomalous ? 'ANOMALOUS' : 'good'}\t${row.ms} ms\n`);
  }
  if (v.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  return 0;
});
