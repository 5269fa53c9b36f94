// One Open Inference Protocol inference on a served model. Inputs: `image` FP32 [N,3,H,W] as the
// exported graph takes it, or `image_bytes` BYTES [N] of encoded images (the usual path). Outputs:
// score, normalized, anomalous, and anomaly_map (at the crop size) only when asked for by name.
import type { PatchCore } from '../../model/patchcore.js';
import type { PredictResult } from '../../types.js';
import { decodeImage } from '../../image/load.js';
import { checkImage } from '../predict.js';
import { HttpError } from '../http-error.js';
import { bad, type ParsedRequest } from './body.js';
import { bytesData, checkDatatype, encodeOutput, fp32Data, type OutputTensor, type ResponseOutput } from './tensors.js';
import type { ServedModel } from '../repository.js';

export const OUTPUTS = ['score', 'normalized', 'anomalous', 'anomaly_map'] as const;
type OutputName = (typeof OUTPUTS)[number];
const DEFAULT_OUTPUTS: OutputName[] = ['score', 'normalized', 'anomalous'];

/** The backbone input's size, when the model fixes it (a crop, or one training-image size with --crop none). */
export function inputSize(m: PatchCore): { H: number; W: number } | null {
  const { crop } = m.config.preprocess;
  if (crop !== 'none') return { H: crop, W: crop };
  const s = m.config.inputSize;
  return s ? { H: s.height, W: s.width } : null;
}

/** $metadata_tensor lists, -1 for variable dims. */
export function tensorMetadata(m: PatchCore) {
  const s = inputSize(m);
  const H = s?.H ?? -1;
  const W = s?.W ?? -1;
  return {
    inputs: [
      { name: 'image', datatype: 'FP32', shape: [-1, 3, H, W] },
      { name: 'image_bytes', datatype: 'BYTES', shape: [-1] },
    ],
    outputs: [
      { name: 'score', datatype: 'FP32', shape: [-1] },
      { name: 'normalized', datatype: 'FP32', shape: [-1] },
      { name: 'anomalous', datatype: 'BOOL', shape: [-1] },
      { name: 'anomaly_map', datatype: 'FP32', shape: [-1, 1, H, W] },
    ],
  };
}

export interface InferLimits {
  /** Images per request. */
  maxBatch: number;
  maxPixels: number;
  run: <T>(job: () => Promise<T>) => Promise<T>;
}

export interface InferResponse {
  json: { model_name: string; model_version: string; id?: string; parameters: Record<string, unknown>; outputs: ResponseOutput[] };
  binary: Buffer[];
}

export async function infer(served: ServedModel, { request, binary }: ParsedRequest, limits: InferLimits): Promise<InferResponse> {
  const { model } = served;
  if (request.inputs.length !== 1) throw bad(`expects exactly one input ('image' FP32 or 'image_bytes' BYTES), got ${request.inputs.length}`);
  const input = request.inputs[0];
  const wanted = requestedOutputs(request);
  const N = input.shape[0];
  if (!(N >= 1)) throw bad(`input '${input.name}': the batch dimension must be at least 1, got shape [${input.shape}]`);
  if (N > limits.maxBatch)
    throw new HttpError(413, 'too_large', `input '${input.name}': batch of ${N} exceeds the limit of ${limits.maxBatch} images per request`);

  let results: PredictResult[];
  if (input.name === 'image') {
    checkDatatype(input, 'FP32');
    const s = inputSize(model);
    const [, c, h, w] = input.shape;
    if (input.shape.length !== 4 || c !== 3 || (s && (h !== s.H || w !== s.W)) || !(h > 0 && w > 0))
      throw bad(`input 'image': expected shape [N,3,${s?.H ?? 'H'},${s?.W ?? 'W'}] but received [${input.shape}]`);
    if (h * w > limits.maxPixels) throw new HttpError(413, 'too_large', `input 'image': ${w}x${h} exceeds the limit of ${limits.maxPixels} pixels`);
    const data = fp32Data(input, binary[0]);
    results = await limits.run(() => model.predictTensor({ dims: input.shape, data }));
  } else if (input.name === 'image_bytes') {
    checkDatatype(input, 'BYTES');
    if (input.shape.length !== 1) throw bad(`input 'image_bytes': expected shape [N] but received [${input.shape}]`);
    const files = bytesData(input, binary[0]).map((bytes, i) => ({ name: `image_bytes[${i}]`, bytes }));
    for (const f of files) await checkImage(f, limits.maxPixels, model.config.preprocess);
    results = await limits.run(async () => {
      const out: PredictResult[] = [];
      for (const f of files) out.push(await model.predict(await decodeImage(f.bytes, f.name)));
      return out;
    });
  } else throw bad(`unknown input '${input.name}' (expects 'image' FP32 [N,3,H,W] or 'image_bytes' BYTES [N])`);

  const outputs: ResponseOutput[] = [];
  const bytes: Buffer[] = [];
  for (const { name, binary: asBinary } of wanted) {
    const e = encodeOutput(outputTensor(name, results), asBinary);
    outputs.push(e.json);
    if (e.bytes) bytes.push(e.bytes);
  }
  return {
    json: {
      model_name: served.name,
      model_version: served.version,
      ...(request.id !== undefined ? { id: request.id } : {}),
      parameters: { model_id: model.modelId, threshold: model.threshold },
      outputs,
    },
    binary: bytes,
  };
}

function requestedOutputs(r: ParsedRequest['request']): { name: OutputName; binary: boolean }[] {
  const all = r.parameters?.binary_data_output === true;
  if (!r.outputs) return DEFAULT_OUTPUTS.map((name) => ({ name, binary: all }));
  return r.outputs.map((o) => {
    if (!(OUTPUTS as readonly string[]).includes(o.name)) throw bad(`unknown output '${o.name}' (outputs: ${OUTPUTS.join(', ')})`);
    const b = o.parameters?.binary_data;
    return { name: o.name as OutputName, binary: typeof b === 'boolean' ? b : all };
  });
}

function outputTensor(name: OutputName, rs: PredictResult[]): OutputTensor {
  const N = rs.length;
  if (name === 'anomalous') return { name, datatype: 'BOOL', shape: [N], data: Uint8Array.from(rs, (r) => (r.anomalous ? 1 : 0)) };
  if (name !== 'anomaly_map') return { name, datatype: 'FP32', shape: [N], data: Float32Array.from(rs, (r) => r[name]) };
  const { width, height } = rs[0].map;
  if (rs.some((r) => r.map.width !== width || r.map.height !== height))
    throw bad("output 'anomaly_map': the batch's images give maps of different sizes; send them one per request");
  const data = new Float32Array(N * width * height);
  rs.forEach((r, i) => data.set(r.map.data, i * width * height));
  return { name, datatype: 'FP32', shape: [N, 1, height, width], data };
}
