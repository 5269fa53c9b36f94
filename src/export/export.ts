// A fitted PatchCore model as ONE ONNX graph: image -> backbone -> aggregation -> k-NN scoring
// -> anomaly map. Outputs `score` [N], `normalized` [N], `anomalous` [N] (bool) and `anomaly_map`
// [N,1,H,W] at the crop size: the outputs `serve` gives under /v2.
import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../onnx/builder.js';
import type { PatchCore } from '../model/patchcore.js';
import { ensureNeighbourTable } from '../model/bank.js';
import { usesNeighbourTable } from '../scoring/scores.js';
import { UserError } from '../util/errors.js';
import { BACKBONE_PREFIX, inlineBackbone, topoSort } from './inline.js';
import { graphBytes } from '../backbone/backbone.js';
import { mapNodes, normaliseNodes } from './head.js';
import { aggregateNodes, type FeatureGrid } from '../features/aggregate-graph.js';
import { scoreNodes } from './score-graph.js';
import { checkExportable, foregroundNodes } from './foreground-graph.js';
import { convertToFp16 } from './fp16.js';
import { ONNX_SIDECAR_FORMAT, scoreSemantics, type OnnxSidecar } from './sidecar.js';

const { onnx } = onnxProto;

export interface ExportOptions {
  fp16?: boolean;
  /** Input uint8 [N,H,W,3] (resized and cropped, not normalised) instead of float [N,3,H,W]. */
  withPreprocess?: boolean;
  /** Bank rows per Gemm tile. */
  tileRows?: number;
}

export interface ExportResult {
  bytes: Uint8Array;
  /** The float32 graph, kept when `bytes` is the fp16 one, to measure the deviation. */
  fp32Bytes?: Uint8Array;
  sidecar: OnnxSidecar;
  sizes: { total: number; backbone: number; bank: number };
  /** Values stored as float16. */
  fp16Values: number;
}

/**
 * The graph's fixed input size: the crop, or with `--crop none` the training images' resized size
 * (recorded at fit); the predictor then takes images that resize to exactly that size.
 */
export function inputSize(model: PatchCore): { H: number; W: number } {
  const { resize, crop } = model.config.preprocess;
  if (crop === 'none') {
    const s = model.config.inputSize;
    if (!s)
      throw new UserError(
        `export needs a fixed input size, but this model's training images had different sizes with --crop none (or it was fitted by an older version); refit with --crop N, or on images of one size`,
      );
    return { H: s.height, W: s.width };
  }
  if (crop > resize)
    throw new UserError(
      `export needs a square input, but crop ${crop} > resize ${resize} gives non-square crops of non-square images; refit with --crop <= --resize`,
    );
  return { H: crop, W: crop };
}

/** Feature-map shapes at the input size, from one probe run of the backbone. */
async function probeGrid(model: PatchCore, H: number, W: number): Promise<FeatureGrid> {
  const [maps] = await model.extractor.backbone.run({ dims: [1, 3, H, W], data: new Float32Array(3 * H * W) });
  const [, c1, h, w] = maps.shallow.dims;
  const [, c2, dh, dw] = maps.deep.dims;
  return { c1, c2, h, w, dh, dw };
}

const MASK_SEMANTICS =
  'Patches off the foreground (the PCA mask of the training patches, closed and dilated on the patch grid) score 0, in the score and the map.';

export async function exportModel(model: PatchCore, opts: ExportOptions = {}): Promise<ExportResult> {
  const { config } = model;
  const { bank } = model.fitted;
  checkExportable(config.foreground);
  const { H, W } = inputSize(model);
  const grid = await probeGrid(model, H, W);
  if (grid.c1 + grid.c2 < bank.dim) throw new Error(`bank dim ${bank.dim} exceeds the backbone's ${grid.c1 + grid.c2} channels`);
  await ensureNeighbourTable(model.fitted, config.scoring);
  // The loaded backbone is the graph the model was fitted with (its hash was checked at fit/load),
  // and an int8 one already holds its QDQ graph: nothing to resolve, hash or quantize again.
  const backbone = model.extractor.backbone;
  const bbBytes = backbone.int8Graph ?? (await graphBytes(backbone));

  const g = new GraphBuilder('patchcore');
  const uint8 = opts.withPreprocess === true;
  const inputDims = uint8 ? ['N', H, W, 3] : ['N', 3, H, W];
  g.input('image', inputDims); // element type set below: the builder has no uint8
  const image = uint8 ? normaliseNodes(g, 'image', config.preprocess, 'normalised') : 'image';
  const [shallow, deep] = config.backbone.layers.map((l) => BACKBONE_PREFIX + l);
  const Q = aggregateNodes(g, shallow, deep, grid, bank.dim);
  const keep = foregroundNodes(g, Q, config.foreground, grid.h, grid.w);
  const scores = scoreNodes(g, Q, bank, { P: grid.h * grid.w, cfg: config.scoring, tileRows: opts.tileRows, keep });
  g.op('Identity', [scores.image], {}, 'score');
  // normalized = sigmoid((score − threshold) / scale), as scoring/decision.ts
  const threshold = g.scalar(g.fresh('threshold'), config.threshold);
  const centred = g.op('Sub', [scores.image, threshold]);
  g.op('Greater', [scores.image, threshold], {}, 'anomalous'); // as PatchCore: score > threshold
  g.op('Sigmoid', [g.op('Div', [centred, g.scalar(g.fresh('scale'), config.normalization.scale)])], {}, 'normalized');
  mapNodes(g, scores.patch, { grid, size: { H, W }, sigma: config.scoring.sigma, stride: config.mapStride, out: 'anomaly_map' });
  g.output('score', ['N']);
  g.output('normalized', ['N']);
  g.output('anomalous', ['N']); // bool, set below: the builder has no bool
  g.output('anomaly_map', ['N', 1, H, W]);

  const proto = onnx.ModelProto.decode(g.toBytes());
  const graph = proto.graph!;
  if (uint8) graph.input![0].type!.tensorType!.elemType = onnx.TensorProto.DataType.UINT8;
  graph.output!.find((o) => o.name === 'anomalous')!.type!.tensorType!.elemType = onnx.TensorProto.DataType.BOOL;
  const inlined = inlineBackbone(graph, bbBytes, config.backbone.layers, image);
  if (inlined.outputs[0] !== shallow || inlined.outputs[1] !== deep) throw new Error('backbone prefix mismatch');
  proto.opsetImport = [...(proto.opsetImport ?? []), ...inlined.extraOpsets];
  topoSort(graph);
  const fp32Bytes = onnx.ModelProto.encode(proto).finish();
  const crop = config.preprocess.crop === 'none' ? `no crop (images must resize to ${W}x${H}, the training images' size)` : 'center crop';
  const fp16Values = opts.fp16 ? convertToFp16(graph) : 0;
  const bytes = opts.fp16 ? onnx.ModelProto.encode(proto).finish() : fp32Bytes;

  const sidecar: OnnxSidecar = {
    format: ONNX_SIDECAR_FORMAT,
    createdAt: new Date().toISOString(),
    input: {
      name: 'image',
      dtype: uint8 ? 'uint8' : 'float32',
      layout: uint8 ? 'NHWC' : 'NCHW',
      dims: inputDims,
      description: uint8
        ? `RGB bytes after background removal (if configured), resize and ${crop}; the graph normalises`
        : `RGB after background removal (if configured), resize, ${crop}, then (x/255 - mean)/std`,
    },
    outputs: { score: { dims: ['N'] }, normalized: { dims: ['N'] }, anomalous: { dims: ['N'] }, anomaly_map: { dims: ['N', 1, H, W] } },
    model_id: model.modelId,
    preprocess: config.preprocess,
    background: config.background,
    threshold: config.threshold,
    thresholdInfo: config.thresholdInfo,
    pixelThreshold: config.pixelThreshold,
    normalization: config.normalization,
    scoring: config.scoring,
    semantics: scoreSemantics(config.scoring) + (keep ? ` ${MASK_SEMANTICS}` : ''),
    ...(keep && config.foreground
      ? { foreground: { mask: 'pca' as const, reason: config.foreground.reason, close: config.foreground.close, dilate: config.foreground.dilate } }
      : {}),
    backbone: config.backbone,
    bank: { size: bank.size, dim: bank.dim, sha256: config.bank.sha256 },
    fp16: opts.fp16 === true,
  };
  const bankBytes = bank.data.byteLength + (usesNeighbourTable(config.scoring) ? bank.size * config.scoring.b * 4 : 0);
  return {
    bytes,
    fp32Bytes: opts.fp16 ? fp32Bytes : undefined,
    sidecar,
    sizes: { total: bytes.byteLength, backbone: bbBytes.byteLength, bank: bankBytes },
    fp16Values,
  };
}
