// A backbone is an ONNX graph with two feature outputs, run by ONNX Runtime.
import { promises as fs } from 'node:fs';
import type { BackboneSpec, FeatureMaps, Tensor } from '../types.js';
import { createSession, ort, type Device } from '../onnx/session.js';
import type { Int8Calibration } from '../onnx/quantize.js';

/** What resolveBackbone (index.ts) needs: a registry id or an .onnx path, and its settings. */
export interface BackboneRequest {
  id: string;
  device?: Device;
  weights?: string;
  /** For a user .onnx file: the two tensors to tap, and its normalisation. */
  layers?: string | string[];
  mean?: string | number[];
  std?: string | number[];
  inputSize?: string | number;
  /** The graph hash a saved model was fitted with: a cached graph with this hash is used as is. */
  hash?: string;
}

export interface Backbone {
  spec: BackboneSpec;
  /** sha256 of the ONNX graph, recorded in model.json. */
  hash: string;
  /** The float ONNX graph (file path or bytes), so it can be quantized. */
  graph: string | Uint8Array;
  device: Device;
  /** Set when the graph run is the int8 version of `graph` (see backbone/int8.ts). */
  int8?: Int8Calibration;
  /** That int8 graph, the one `run` executes (export inlines it). */
  int8Graph?: Uint8Array;
  /** Run a normalised batch [N,3,H,W]; one FeatureMaps per image. */
  run(batch: Tensor): Promise<FeatureMaps[]>;
  /**
   * Free the session and its activation memory (~0.4 GB at 724 px) until the next run, which
   * starts it again: fit calls it between feature extraction and the coreset.
   */
  release?(): Promise<void>;
}

export async function onnxBackbone(
  spec: BackboneSpec,
  model: string | Uint8Array,
  hash: string,
  device: Device = 'cpu',
  run?: { bytes: Uint8Array; int8: Int8Calibration },
): Promise<Backbone> {
  // The session starts on first use: an int8 fit or load never runs the float graph itself, and
  // building a session for a 100 MB graph costs ~0.1 s.
  let session: Promise<ort.InferenceSession> | undefined;
  return {
    spec,
    hash,
    graph: model,
    device,
    int8: run?.int8,
    int8Graph: run?.bytes,
    async run(batch: Tensor): Promise<FeatureMaps[]> {
      const s = await (session ??= createSession(run?.bytes ?? model, { device }));
      const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', batch.data, batch.dims) }, [...spec.layers]);
      const [a, b] = spec.layers.map((l) => out[l]);
      const n = batch.dims[0];
      return Array.from({ length: n }, (_, i) => ({ shallow: slice(a, i), deep: slice(b, i) }));
    },
    async release(): Promise<void> {
      const s = session;
      session = undefined;
      await (await s)?.release();
    },
  };
}

/** The float graph's bytes (read from disk when the backbone holds a path). */
export async function graphBytes(b: Backbone): Promise<Uint8Array> {
  return typeof b.graph === 'string' ? new Uint8Array(await fs.readFile(b.graph)) : b.graph;
}

/**
 * Image i of a batched ORT output, as a [1,C,h,w] view of it: maps are aggregated as they come, so
 * a view holds the batch only a moment longer, and copying them was 1 % of a fit's main thread.
 */
function slice(t: ort.Tensor, i: number): Tensor {
  const dims = t.dims.map(Number);
  const per = dims.slice(1).reduce((x, y) => x * y, 1);
  const data = (t.data as Float32Array).subarray(i * per, (i + 1) * per);
  return { dims: [1, ...dims.slice(1)], data };
}
