import * as path from 'node:path';
import { checkOutputDir } from '../../util/atomic.js';
import { DEVICE, WEIGHTS } from '../args.js';
import { flag, integer, required, type CommandSpec } from '../options.js';
import { PatchCore } from '../../model/patchcore.js';
import { loadImage } from '../../image/load.js';
import { resizeBilinear } from '../../image/resize.js';
import type { ModelConfig } from '../../model/config.js';
import type { RgbImage } from '../../types.js';
import { syntheticSample } from '../../data/synthetic.js';
import { exportModel } from '../../export/export.js';
import { OnnxPredictor } from '../../export/onnx-predict.js';
import { graphVsGraph, graphVsModel } from '../../export/validate.js';
import { writeExport } from '../../export/sidecar.js';
import { runCommand, warn, warnIfOldResize } from './common.js';

const EXPORT_OPTIONS = {
  model: required('MODEL_DIR', 'a model directory from `patchcore fit`', 'a model directory'),
  out: required('FILE.onnx', 'the graph to write (with FILE.onnx.json and a Triton config.pbtxt beside it)', 'an .onnx file to write'),
  fp16: flag('store weights and bank as float16 (about half the size); the deviation is measured'),
  'with-preprocess': flag('input uint8 [N,H,W,3] RGB, resized and cropped; the graph normalises'),
  'max-batch': integer('N', 'Triton max_batch_size', 1, 4096, 8),
  weights: WEIGHTS,
  device: DEVICE,
} as const;

export const EXPORT: CommandSpec<typeof EXPORT_OPTIONS> = {
  name: 'export',
  usage: '--model MODEL_DIR --out model.onnx [--fp16] [--with-preprocess] [--max-batch N] [IMG...]',
  about: 'One ONNX graph: image [N,3,H,W] (resized, cropped, normalised as model.onnx.json says) ->\nscore [N] and anomaly_map [N,1,H,W]. IMG...: images to validate the graph on (default: one\nsynthetic image). See docs/SERVING.md.',
  options: EXPORT_OPTIONS,
  positionals: true,
};

const fmt = (x: number) => x.toExponential(1);
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export const exportCommand = runCommand(EXPORT, async (v, positionals) => {
  const dir = v.model;
  const out = v.out;
  const maxBatch = v['max-batch'];
  const weights = v.weights;
  const log = warn(v.quiet);
  await checkOutputDir('--out', path.dirname(out), out);

  const model = await PatchCore.open(dir, { device: v.device, weights });
  warnIfOldResize(model.config, v.quiet);
  const { config } = model;
  const r = await exportModel(model, { fp16: v.fp16 === true, withPreprocess: v['with-preprocess'] === true });
  if (config.background)
    log('note: background removal cannot be expressed in the graph; model.onnx.json records its settings, and the caller (e.g. patchcore predict --onnx) must apply it before the graph');

  const images = positionals.length ? await Promise.all(positionals.map((f) => loadImage(f))) : [await validationImage(config)];
  const graph = await OnnxPredictor.fromBytes(r.bytes, r.sidecar);
  const validation: NonNullable<typeof r.sidecar.validation> = { images: positionals.length ? positionals : ['synthetic good sample'] };
  if (r.fp32Bytes) {
    const reference = await OnnxPredictor.fromBytes(r.fp32Bytes, r.sidecar);
    validation.vsTypeScript = await graphVsModel(reference, model, images);
    validation.fp16VsFp32 = await graphVsGraph(graph, reference, images);
    await reference.release();
    log(`fp16: ${r.fp16Values} values stored as float16; deviation from fp32: score ${fmt(validation.fp16VsFp32.score)}, map ${fmt(validation.fp16VsFp32.map)} (relative, max over ${images.length} image(s))`);
  } else {
    validation.vsTypeScript = await graphVsModel(graph, model, images);
  }
  await graph.release();
  r.sidecar.validation = validation;
  const files = await writeExport(out, r.bytes, r.sidecar, maxBatch);
  const other = r.sizes.total - r.sizes.backbone - r.sizes.bank;
  const parts = r.fp32Bytes ? `fp16; the fp32 graph is ${mb(r.fp32Bytes.byteLength)}` : `backbone ${mb(r.sizes.backbone)} + bank ${mb(r.sizes.bank)} + other ${mb(other)}`;
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
