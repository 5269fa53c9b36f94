// int8 backbones: calibrate activation ranges on a few prepared images, then run the QDQ graph.
// The float graph stays the backbone's identity (its hash); the ranges, stored in model.json,
// rebuild the same int8 graph at load (quantization is deterministic).
import { promises as fs } from 'node:fs';
import onnxProto from 'onnx-proto';
import type { Tensor } from '../types.js';
import { onnxBackbone, type Backbone } from './backbone.js';
import { activationTensors, calibrationModel, quantizeModel, updateRanges, type Int8Calibration, type Ranges } from '../onnx/quantize.js';
import { createSession, ort } from '../onnx/session.js';

async function graphBytes(b: Backbone): Promise<Uint8Array> {
  return typeof b.graph === 'string' ? new Uint8Array(await fs.readFile(b.graph)) : b.graph;
}

/** Activation ranges of the float backbone over `tensors` (one [1,3,H,W] image each). */
export async function calibrate(b: Backbone, tensors: Tensor[]): Promise<Int8Calibration> {
  const bytes = await graphBytes(b);
  const names = activationTensors(onnxProto.onnx.ModelProto.decode(bytes));
  const session = await createSession(calibrationModel(bytes, names), { device: b.device });
  const input = session.inputNames[0];
  const ranges: Ranges = {};
  try {
    for (const t of tensors) updateRanges(ranges, await session.run({ [input]: new ort.Tensor('float32', t.data, t.dims) }), names);
  } finally {
    await session.release();
  }
  return { images: tensors.length, ranges };
}

/** The int8 version of a float backbone, from calibrated ranges. */
export async function quantizeBackbone(b: Backbone, cal: Int8Calibration): Promise<Backbone> {
  if (b.int8) return b;
  const bytes = await graphBytes(b);
  return onnxBackbone(b.spec, b.graph, b.hash, b.device, { bytes: quantizeModel(bytes, cal.ranges), int8: cal });
}
