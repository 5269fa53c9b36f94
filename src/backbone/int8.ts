// int8 backbones, all in one place: the precision choice, calibration of activation ranges on a few
// training images as the extractor prepares them, and the QDQ graph (onnx/quantize.ts) they give.
// The float graph stays the backbone's identity (its hash); the ranges, stored in model.json,
// rebuild the same int8 graph at load (quantization is deterministic).
import type { Tensor } from '../types.js';
import type { Device } from '../onnx/session.js';
import { graphBytes, onnxBackbone, type Backbone } from './backbone.js';
import { calibrationModel, quantizeModel, updateRanges, type Int8Calibration, type Ranges } from '../onnx/quantize.js';
import { createSession, ort } from '../onnx/session.js';

export const PRECISIONS = ['fp32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/**
 * Training images whose activation ranges (min/max) set the int8 scales, evenly spaced. Industrial
 * training sets are homogeneous, so a handful covers the ranges (docs/RESULTS.md#backbones-and-int8).
 */
export const CALIBRATION_IMAGES = 8;

/**
 * The backbone to extract with: as given for fp32, its calibrated int8 version for int8.
 * `prepare` reads one training file as the backbone will see it (the extractor's background
 * removal and preprocessing).
 */
export async function backboneFor(precision: Precision, backbone: Backbone, files: string[], prepare: (file: string) => Promise<Tensor>): Promise<Backbone> {
  if (precision === 'fp32' || backbone.int8) return backbone;
  const step = Math.max(1, files.length / CALIBRATION_IMAGES);
  const tensors = [];
  for (let i = 0; i < files.length; i += step) tensors.push(await prepare(files[Math.floor(i)]));
  return int8Backbone(backbone, tensors);
}

/** The int8 version of a float backbone, from calibrated ranges. */
export async function quantizeBackbone(b: Backbone, cal: Int8Calibration): Promise<Backbone> {
  if (b.int8) return b;
  return quantized(b, await graphBytes(b), cal);
}

/** Calibrate on `tensors` (one [1,3,H,W] image each), then quantize; the float graph (~100 MB for WRN50) is read once. */
export async function int8Backbone(b: Backbone, tensors: Tensor[]): Promise<Backbone> {
  if (b.int8) return b;
  const bytes = await graphBytes(b);
  return quantized(b, bytes, await calibrateGraph(bytes, tensors, b.device));
}

/** Activation ranges (min/max) of the float graph over `tensors`. */
async function calibrateGraph(bytes: Uint8Array, tensors: Tensor[], device: Device): Promise<Int8Calibration> {
  const calib = calibrationModel(bytes);
  const session = await createSession(calib.bytes, { device });
  const input = session.inputNames[0];
  const ranges: Ranges = {};
  try {
    for (const t of tensors) updateRanges(ranges, await session.run({ [input]: new ort.Tensor('float32', t.data, t.dims) }), calib.names);
  } finally {
    await session.release();
  }
  return { images: tensors.length, ranges };
}

function quantized(b: Backbone, bytes: Uint8Array, cal: Int8Calibration): Promise<Backbone> {
  return onnxBackbone(b.spec, b.graph, b.hash, b.device, { bytes: quantizeModel(bytes, cal.ranges), int8: cal });
}
