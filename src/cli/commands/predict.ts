import * as fs from 'node:fs';
import { device, isInt, num, optStr, parse, str } from '../args.js';
import { PatchCore, manualThreshold } from '../../model/patchcore.js';
import { loadImage, encodeMaskPng } from '../../image/load.js';
import type { PredictResult, RgbImage } from '../../types.js';
import { overlayPng } from '../../report/overlay.js';
import { csvHeader, csvLine, type ResultRow } from '../../report/rows.js';
import { regionsOf } from '../../model/regions.js';
import { expandInputs, mirrorPath, type InputFile } from '../../data/inputs.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { UserError, errorMessage } from '../../util/errors.js';
import { helpRequested } from './common.js';
import { OnnxPredictor } from '../../export/onnx-predict.js';

/** Exit status when some images could not be scored (their rows carry the error). */
export const EXIT_SOME_FAILED = 3;

const HELP = `patchcore predict --model MODEL_DIR | --onnx model.onnx  INPUT... [options]
  INPUT: image files, folders (searched recursively, sorted) or quoted globs ('parts/**/*.png').
  Prints one line per image (file, score, normalized, verdict, ms) and a summary on stderr.
  --out DIR           heatmap overlays, mirroring the inputs' relative paths (DIR/good/000_heatmap.png)
  --masks DIR         binary defect masks at the original size (DIR/good/000_mask.png), from the
                      model's pixel threshold
  --min-area PX       ignore defect regions smaller than PX pixels; the verdict then follows the
                      regions: anomalous when at least one region remains
  --csv FILE          stream a CSV row per image as it finishes ('-' = stdout); columns
                      file,score,normalized,anomalous,threshold,model_id,ms,error
  --ndjson            stream one JSON object per image to stdout
  --json              one JSON array at the end
  --threshold T       use T instead of the model's saved threshold
  --device cpu|cuda   --weights FILE   --quiet
  Exit status: 0 all images scored; ${EXIT_SOME_FAILED} some could not be read or scored (their rows
  have 'error' set); 2 bad invocation (unknown model, bad flag, no inputs).
`;

/** What PatchCore and the exported graph's OnnxPredictor both offer. */
interface Predictor {
  predict(img: RgbImage): Promise<PredictResult>;
  setThreshold(t: number, info: ReturnType<typeof manualThreshold>): void;
  readonly threshold: number;
  readonly pixelThreshold: number | null;
  readonly modelId: string;
}

export async function predictCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, {
    model: { type: 'string' }, onnx: { type: 'string' }, out: { type: 'string' }, masks: { type: 'string' }, 'min-area': { type: 'string' },
    csv: { type: 'string' }, ndjson: { type: 'boolean' }, json: { type: 'boolean' }, threshold: { type: 'string' },
    device: { type: 'string' }, weights: { type: 'string' },
  }, true);
  if (helpRequested(v, HELP)) return 0;
  // every flag is checked before the model loads
  if (positionals.length === 0) throw new UserError('predict: no images given');
  if (v.model !== undefined && v.onnx !== undefined) throw new UserError('give --model or --onnx, not both');
  const threshold = v.threshold === undefined ? undefined : num(v, 'threshold', 0);
  const minArea = v['min-area'] === undefined ? undefined : num(v, 'min-area', 1, isInt(1, 2 ** 31), 'a positive integer');
  const csv = optStr(v, 'csv');
  const stdoutFormats = [v.json === true, v.ndjson === true, csv === '-'].filter(Boolean).length;
  if (stdoutFormats > 1) throw new UserError('choose one of --json, --ndjson and --csv - for stdout');
  const out = optStr(v, 'out');
  const masks = optStr(v, 'masks');
  const dev = device(v);
  const inputs = await expandInputs(positionals);

  const model: Predictor = typeof v.onnx === 'string'
    ? await OnnxPredictor.load(v.onnx, { device: dev })
    : await PatchCore.open(str(v, 'model'), { device: dev, weights: optStr(v, 'weights') });
  if (threshold !== undefined) model.setThreshold(threshold, manualThreshold('--threshold'));
  if ((masks !== undefined || minArea !== undefined) && model.pixelThreshold === null)
    throw new UserError('this model has no pixel threshold (fitted before masks existed): refit it, or run calibrate with masks');

  const csvOut = csv === undefined ? null : csv === '-' ? 1 : fs.openSync(csv, 'w');
  const human = stdoutFormats === 0;
  // regions cost a full-size map per image (~5 ms): only when an output shows them
  const regions = model.pixelThreshold !== null && (masks !== undefined || minArea !== undefined || v.json === true || v.ndjson === true);
  const rows: ResultRow[] = [];
  if (csvOut !== null) fs.writeSync(csvOut, csvHeader());
  let failed = 0;
  // decode the next image while the current one is scored (a two-stage pipeline)
  const load = (i: number) => {
    const p = loadImage(inputs[i].file);
    p.catch(() => undefined); // reported when awaited
    return p;
  };
  let next: Promise<RgbImage> | null = inputs.length ? load(0) : null;
  for (const [i, input] of inputs.entries()) {
    const t0 = performance.now();
    const current = next!;
    next = i + 1 < inputs.length ? load(i + 1) : null;
    const row = await inspect(model, current, input, { out, masks, minArea, regions }).catch((e: unknown) => errorRow(input, e, model));
    row.ms = Math.round(performance.now() - t0);
    if (row.error !== null) failed++;
    rows.push(row);
    if (csvOut !== null) fs.writeSync(csvOut, csvLine(row));
    if (v.ndjson) process.stdout.write(JSON.stringify(row) + '\n');
    if (human) process.stdout.write(humanLine(row));
  }
  if (csvOut !== null && csvOut !== 1) fs.closeSync(csvOut);
  if (v.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  const flagged = rows.filter((r) => r.anomalous === true).length;
  if (v.quiet !== true || failed > 0)
    process.stderr.write(`patchcore predict: ${rows.length - failed} scored (${flagged} anomalous), ${failed} failed${failed ? ` (exit ${EXIT_SOME_FAILED})` : ''}\n`);
  return failed > 0 ? EXIT_SOME_FAILED : 0;
}

async function inspect(
  model: Predictor,
  image: Promise<RgbImage>,
  input: InputFile,
  o: { out?: string; masks?: string; minArea?: number; regions: boolean },
): Promise<ResultRow> {
  const img = await image;
  const r = await model.predict(img);
  const row: ResultRow = { file: input.file, score: r.score, normalized: r.normalized, anomalous: r.anomalous, threshold: r.threshold, model_id: r.modelId, ms: 0, error: null };
  if (o.regions && model.pixelThreshold !== null) {
    const { mask, regions } = regionsOf(r.mapOriginal, model.pixelThreshold, o.minArea);
    row.regions = regions;
    if (o.minArea !== undefined) row.anomalous = regions.length > 0;
    if (o.masks) await writeFileAtomic((row.mask = mirrorPath(o.masks, input.rel, '_mask.png')), await encodeMaskPng(mask, img.width, img.height));
  }
  if (o.out) await writeFileAtomic((row.heatmap = mirrorPath(o.out, input.rel, '_heatmap.png')), await overlayPng(img, r.mapOriginal, { score: r.score, threshold: r.threshold }));
  return row;
}

function errorRow(input: InputFile, e: unknown, model: Predictor): ResultRow {
  const error = errorMessage(e).split('\n')[0];
  return { file: input.file, score: null, normalized: null, anomalous: null, threshold: model.threshold, model_id: model.modelId, ms: 0, error };
}

function humanLine(r: ResultRow): string {
  if (r.error !== null) return `${r.file}\tERROR\t${r.error}\n`;
  const regions = r.regions ? `\t${r.regions.length} region${r.regions.length === 1 ? '' : 's'}` : '';
  return `${r.file}\t${r.score!.toFixed(4)}\t${r.normalized!.toFixed(3)}\t${r.anomalous ? 'ANOMALOUS' : 'good'}${regions}\t${r.ms} ms\n`;
}
