import * as path from 'node:path';
import { device, num, optStr, parse, str } from '../args.js';
import { PatchCore } from '../../model/patchcore.js';
import { loadImage } from '../../image/load.js';
import type { RgbImage } from '../../types.js';
import { overlayPng } from '../../report/overlay.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { helpRequested } from './common.js';
import { OnnxPredictor } from '../../export/onnx-predict.js';

const HELP = `patchcore predict --model MODEL_DIR | --onnx model.onnx  IMG... [--out DIR] [--json] [--threshold T]
  Prints each image's score and verdict; with --out writes IMG_heatmap.png overlays.
`;

export async function predictCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, { model: { type: 'string' }, onnx: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, threshold: { type: 'string' }, device: { type: 'string' }, weights: { type: 'string' } }, true);
  if (helpRequested(v, HELP)) return 0;
  if (positionals.length === 0) throw new UserError('predict: no images given');
  const model = typeof v.onnx === 'string'
    ? await OnnxPredictor.load(v.onnx, { device: device(v) })
    : await PatchCore.open(str(v, 'model'), { device: device(v), weights: optStr(v, 'weights') });
  if (v.threshold !== undefined) model.setThreshold(num(v, 'threshold', 0), '--threshold');
  const out = typeof v.out === 'string' ? v.out : null;
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
  if (v.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  return 0;
}
