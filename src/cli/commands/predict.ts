import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEVICE, THRESHOLD, WEIGHTS } from '../args.js';
import { flag, integer, text, type CommandSpec } from '../options.js';
import { PatchCore, manualThreshold } from '../../model/patchcore.js';
import { loadImage, encodeMaskPng } from '../../image/load.js';
import type { PredictResult, RgbImage } from '../../types.js';
import { overlayPng } from '../../report/overlay.js';
import { csvHeader, csvLine, scoredRow, type ResultRow } from '../../report/rows.js';
import { regionsOf } from '../../model/regions.js';
import { expandInputs, mirrorPath, type InputFile } from '../../data/inputs.js';
import { checkOutputDir, writeFileAtomic } from '../../util/atomic.js';
import { UserError, errorMessage } from '../../util/errors.js';
import { runCommand, warnIfOldResize } from './common.js';
import { OnnxPredictor } from '../../export/onnx-predict.js';
import { checkRemoteFlags, predictRemote } from './predict-remote.js';

/** Exit status when some images could not be scored (their rows carry the error). */
export const EXIT_SOME_FAILED = 3;

const PREDICT_OPTIONS = {
  model: text('MODEL_DIR', 'a model directory from `patchcore fit`'),
  onnx: text('FILE.onnx', 'an exported graph (`patchcore export`) instead of --model'),
  out: text('DIR', "heatmap overlays, mirroring the inputs' relative paths (DIR/good/000_heatmap.png)"),
  masks: text('DIR', "binary defect masks at the original size (DIR/good/000_mask.png), from the model's pixel threshold"),
  'min-area': integer(
    'PX',
    'ignore defect regions smaller than PX pixels; the verdict then follows the regions: anomalous when at least one region remains',
    1,
    2 ** 31,
    undefined,
  ),
  csv: text('FILE', "stream a CSV row per image as it finishes ('-' = stdout); columns file,score,normalized,anomalous,threshold,model_id,ms,error"),
  ndjson: flag('stream one JSON object per image to stdout'),
  json: flag('one JSON array at the end'),
  url: text('URL', 'score on a server speaking the Open Inference Protocol (patchcore serve, Triton, KServe) instead of --model'),
  'model-name': text('NAME', 'with --url: the model to ask for'),
  binary: flag("with --url: send and receive tensors as binary data (Triton's binary_tensor_data) instead of JSON"),
  token: text('T', "with --url: send 'Authorization: Bearer T' (or set PATCHCORE_TOKEN)"),
  threshold: THRESHOLD,
  device: DEVICE,
  weights: WEIGHTS,
} as const;

export const PREDICT: CommandSpec<typeof PREDICT_OPTIONS> = {
  name: 'predict',
  usage: '--model MODEL_DIR | --onnx FILE.onnx | --url URL --model-name NAME  INPUT... [options]',
  about: `INPUT: image files, folders (searched recursively, sorted) or quoted globs ('parts/**/*.png').
Prints one line per image (file, score, normalized, verdict, ms) and a summary on stderr.
Exit status: 0 all images scored; ${EXIT_SOME_FAILED} some could not be read or scored (their rows
have 'error' set); 2 bad invocation (unknown model, bad flag, no inputs).`,
  options: PREDICT_OPTIONS,
  positionals: true,
};

/** What PatchCore and the exported graph's OnnxPredictor both offer. */
interface Predictor {
  predict(img: RgbImage): Promise<PredictResult>;
  setThreshold(t: number, info: ReturnType<typeof manualThreshold>): void;
  readonly threshold: number;
  readonly pixelThreshold: number | null;
  readonly modelId: string;
}

export const predictCommand = runCommand(PREDICT, async (v, positionals) => {
  // every flag is checked before the model loads (the table checks each value)
  if (positionals.length === 0) throw new UserError('predict: no images given');
  const sources = [v.model, v.onnx, v.url].filter((x) => x !== undefined).length;
  if (sources > 1) throw new UserError(v.url === undefined ? 'give --model or --onnx, not both' : 'give --url or --model/--onnx, not both');
  if (sources === 0) throw new UserError('predict: give --model MODEL_DIR, --onnx FILE.onnx or --url URL --model-name NAME');
  checkRemoteFlags(v);
  const { threshold, csv, out, masks } = v;
  const minArea = v['min-area'];
  const stdoutFormats = [v.json, v.ndjson, csv === '-'].filter(Boolean).length;
  if (stdoutFormats > 1) throw new UserError('choose one of --json, --ndjson and --csv - for stdout');
  if (out !== undefined) await checkOutputDir('--out', out);
  if (masks !== undefined) await checkOutputDir('--masks', masks);
  if (csv !== undefined && csv !== '-') await checkOutputDir('--csv', path.dirname(csv), csv);
  const inputs = await expandInputs(positionals);
  if (v.url !== undefined)
    return predictRemote(
      v.url,
      v['model-name']!,
      inputs,
      { binary: v.binary === true, token: v.token ?? (process.env.PATCHCORE_TOKEN || undefined) },
      rowWriter(v),
    );

  const model: Predictor =
    v.onnx !== undefined
      ? await OnnxPredictor.load(v.onnx, { device: v.device })
      : await PatchCore.open(v.model as string, { device: v.device, weights: v.weights });
  if (model instanceof PatchCore) warnIfOldResize(model.config, v.quiet);
  if (threshold !== undefined) model.setThreshold(threshold, manualThreshold('--threshold'));
  if ((masks !== undefined || minArea !== undefined) && model.pixelThreshold === null)
    throw new UserError('this model has no pixel threshold (fitted before masks existed): refit it, or run calibrate with masks');

  const sink = rowWriter(v);
  // regions cost a full-size map per image (~5 ms): only when an output shows them
  const regions = model.pixelThreshold !== null && (masks !== undefined || minArea !== undefined || v.json === true || v.ndjson === true);
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
    sink.write(row);
  }
  return sink.finish();
});

/** Where rows go (CSV file or stdout, NDJSON, JSON at the end, human lines) and the summary and exit status. */
export interface RowWriter {
  write(row: ResultRow): void;
  /** Close the outputs, print the summary; the exit status. */
  finish(): number;
}

function rowWriter(v: { csv?: string; ndjson?: boolean; json?: boolean; quiet?: boolean }): RowWriter {
  const { csv } = v;
  const csvOut = csv === undefined ? null : csv === '-' ? 1 : fs.openSync(csv, 'w');
  const human = !v.json && !v.ndjson && csv !== '-';
  const rows: ResultRow[] = [];
  let failed = 0;
  if (csvOut !== null) fs.writeSync(csvOut, csvHeader());
  return {
    write(row) {
      if (row.error !== null) failed++;
      rows.push(row);
      if (csvOut !== null) fs.writeSync(csvOut, csvLine(row));
      if (v.ndjson) process.stdout.write(`${JSON.stringify(row)}\n`);
      if (human) process.stdout.write(humanLine(row));
    },
    finish() {
      if (csvOut !== null && csvOut !== 1) fs.closeSync(csvOut);
      if (v.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      const flagged = rows.filter((r) => r.anomalous === true).length;
      if (!v.quiet || failed > 0)
        process.stderr.write(
          `patchcore predict: ${rows.length - failed} scored (${flagged} anomalous), ${failed} failed${failed ? ` (exit ${EXIT_SOME_FAILED})` : ''}\n`,
        );
      return failed > 0 ? EXIT_SOME_FAILED : 0;
    },
  };
}

async function inspect(
  model: Predictor,
  image: Promise<RgbImage>,
  input: InputFile,
  o: { out?: string; masks?: string; minArea?: number; regions: boolean },
): Promise<ResultRow> {
  const img = await image;
  const r = await model.predict(img);
  const row: ResultRow = scoredRow(input.file, r);
  if (o.regions && model.pixelThreshold !== null) {
    const { mask, regions } = regionsOf(r.mapOriginal, model.pixelThreshold, o.minArea);
    row.regions = regions;
    if (o.minArea !== undefined) row.anomalous = regions.length > 0;
    if (o.masks) await writeFileAtomic((row.mask = mirrorPath(o.masks, input.rel, '_mask.png')), await encodeMaskPng(mask, img.width, img.height));
  }
  if (o.out)
    await writeFileAtomic(
      (row.heatmap = mirrorPath(o.out, input.rel, '_heatmap.png')),
      await overlayPng(img, r.mapOriginal, { score: r.score, threshold: r.threshold }),
    );
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
