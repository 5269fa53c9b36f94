import * as path from 'node:path';
import { checkOutputDir } from '../../util/atomic.js';
import { DEVICE, WEIGHTS } from '../args.js';
import { flag, integer, required, text, type CommandSpec } from '../options.js';
import { PatchCore } from '../../model/patchcore.js';
import { loadImage } from '../../image/load.js';
import { resizeBilinear } from '../../image/resize.js';
import type { ModelConfig } from '../../model/config.js';
import type { RgbImage } from '../../types.js';
import { syntheticSample } from '../../data/synthetic.js';
import { exportModel } from '../../export/export.js';
import { OnnxPredictor } from '../../export/onnx-predict.js';
import { graphVsGraph, graphVsModel } from '../../export/validate.js';
import { writeExport, writeTritonRepository } from '../../export/sidecar.js';
import { invalid, UserError } from '../../util/errors.js';
import { MODEL_NAME } from '../../server/repository.js';
import { runCommand, warn, warnIfOldResize } from './common.js';

const EXPORT_OPTIONS = {
  model: required('MODEL_DIR', 'a model directory from `patchcore fit`', 'a model directory'),
  out: text('FILE.onnx', 'the graph to write (with FILE.onnx.json and a Triton config.pbtxt beside it)'),
  triton: text('DIR', 'instead of --out: a Triton model repository, DIR/NAME/config.pbtxt and DIR/NAME/1/model.onnx'),
  name: text('NAME', "with --triton: the model's name in the repository (default: the model folder's name)"),
  fp16: flag('store weights and bank as float16 (about half the size); the deviation is measured'),
  'with-preprocess': flag('input uint8 [N,H,W,3] RGB, resized and cropped; the graph normalises'),
  'max-batch': integer('N', 'Triton max_batch_size', 1, 4096, 8),
  weights: WEIGHTS,
  device: DEVICE,
} as const;

export const EXPORT: CommandSpec<typeof EXPORT_OPTIONS> = {
  name: 'export',
  usage: '--model MODEL_DIR --out model.onnx | --triton DIR [--name NAME] [--fp16] [--with-preprocess] [--max-batch N] [IMG...]',
  about:
    'One ONNX graph: image [N,3,H,W] (resized, cropped, normalised as model.onnx.json says) ->\nscore [N] and anomaly_map [N,1,H,W]. IMG...: images to validate the graph on (default: one\nsynthetic image). See docs/SERVING.md.',
  options: EXPORT_OPTIONS,
  positionals: true,
};

const fmt = (x: number) => x.toExponential(1);
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export const exportCommand = runCommand(EXPORT, async (v, positionals) => {
  const dir = v.model;
  const maxBatch = v['max-batch'];
  const weights = v.weights;
  const log = warn(v.quiet);
  if ((v.out === undefined) === (v.triton === undefined)) throw new UserError('export: give --out FILE.onnx or --triton DIR (one of them)');
  if (v.name !== undefined && v.triton === undefined) throw new UserError('--name needs --triton');
  const name = v.name ?? path.basename(path.resolve(dir)).replace(/\.zip$/i, '');
  if (!MODEL_NAME.test(name)) throw invalid('--name', 'a model name of letters, digits, _ . - (not starting with . or -)', name);
  const out = v.out ?? path.join(v.triton!, name, '1', 'model.onnx');
  if (v.out !== undefined) await checkOutputDir('--out', path.dirname(out), out);
  else await checkOutputDir('--triton', v.triton!);

  const model = await PatchCore.open(dir, { device: v.device, weights });
  warnIfOldResize(model.config, v.quiet);
  const { config } = model;
  const r = await exportModel(model, { fp16: v.fp16 === true, withPreprocess: v['with-preprocess'] === true });
  if (config.background)
    log(
      'note: background removal cannot be expressed in the graph; model.onnx.json records its settings, and the caller (e.g. patchcore predict --onnx) must apply it before the graph',
    );

  const images = positionals.length ? await Promise.all(positionals.map((f) => loadImage(f))) : [await validationImage(config)];
  const graph = await OnnxPredictor.fromBytes(r.bytes, r.sidecar);
  const validation: NonNullable<typeof r.sidecar.validation> = { images: positionals.length ? positionals : ['synthetic good sample'] };
  if (r.fp32Bytes) {
    const reference = await OnnxPredictor.fromBytes(r.fp32Bytes, r.sidecar);
    validation.vsTypeScript = await graphVsModel(reference, model, images);
    validation.fp16VsFp32 = await graphVsGraph(graph, reference, images);
    await reference.release();
    log(
      `fp16: ${r.fp16Values} values stored as float16; deviation from fp32: score ${fmt(validation.fp16VsFp32.score)}, map ${fmt(validation.fp16VsFp32.map)} (relative, max over ${images.length} image(s))`,
    );
  } else {
    validation.vsTypeScript = await graphVsModel(graph, model, images);
  }
  await graph.release();
  r.sidecar.validation = validation;
  const files =
    v.triton !== undefined
      ? await writeTritonRepository(v.triton, { name, bytes: r.bytes, sidecar: r.sidecar }, maxBatch)
      : await writeExport(out, r.bytes, r.sidecar, maxBatch);
  const other = r.sizes.total - r.sizes.backbone - r.sizes.bank;
  const parts = r.fp32Bytes
    ? `fp16; the fp32 graph is ${mb(r.fp32Bytes.byteLength)}`
    : `backbone ${mb(r.sizes.backbone)} + bank ${mb(r.sizes.bank)} + other ${mb(other)}`;
  process.stdout.write(
    `exported ${out}: ${mb(r.sizes.total)} (${parts})\n` +
      `graph vs TypeScript model (fp32): score ${fmt(validation.vsTypeScript.score)}, map ${fmt(validation.vsTypeScript.map)} max relative deviation\n` +
      `wrote ${files.join(', ')}\n`,
  );
  return 0;
});

/** A synthetic good part the graph accepts: square, or with --crop none at the training images' size. */
async function validationImage(c: ModelConfig): Promise<RgbImage> {
  const img = syntheticSample(1, 'good', c.preprocess.resize).image;
  return c.preprocess.crop === 'none' && c.inputSize ? resizeBilinear(img, c.inputSize.width, c.inputSize.height) : img;
}
