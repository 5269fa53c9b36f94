// Predict with an exported graph: the sidecar's preprocessing in TypeScript (background removal,
// resize, crop, normalise — the same functions the model uses), the rest in ONNX Runtime.
// For `patchcore predict --onnx model.onnx IMG...`.
import { promises as fs } from 'node:fs';
import type { RgbImage, ScoreMap } from '../types.js';
import { removeBackground } from '../image/background.js';
import { normalise, preprocess, type Geometry } from '../image/preprocess.js';
import { toOriginal } from '../scoring/anomaly-map.js';
import type { PredictResult } from '../types.js';
import { normalizeScore } from '../scoring/decision.js';
import { createSession, ort, type SessionOptions } from '../onnx/session.js';
import { UserError } from '../util/errors.js';
import { readSidecar, type OnnxSidecar } from './sidecar.js';

/** Same fields as PatchCore.predict, less the patch grid the graph does not return. */
export type OnnxPrediction = Omit<PredictResult, 'patches'>;

export interface GraphOutputs {
  score: Float32Array; // [N]
  normalized: Float32Array; // [N]
  map: Float32Array; // [N·H·W]
}

export class OnnxPredictor {
  threshold: number;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly sidecar: OnnxSidecar,
  ) {
    this.threshold = sidecar.threshold;
  }

  get modelId(): string {
    return this.sidecar.model_id;
  }

  get pixelThreshold(): number | null {
    return this.sidecar.pixelThreshold;
  }

  /** Same call as PatchCore.setThreshold; the graph has no config to record the provenance in. */
  setThreshold(value: number, _info?: unknown): void {
    this.threshold = value;
  }

  /** `file` plus its `file.json` sidecar. */
  static async load(file: string, opts: SessionOptions = {}): Promise<OnnxPredictor> {
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(file);
    } catch (e) {
      throw new UserError(`ONNX model ${file}: ${(e as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a directory, not an .onnx file' : 'no such file'}`);
    }
    // the graph first: a missing .onnx is named as such, not as its missing sidecar
    const sidecar = await readSidecar(`${file}.json`);
    return OnnxPredictor.fromBytes(bytes, sidecar, opts);
  }

  static async fromBytes(bytes: Uint8Array, sidecar: OnnxSidecar, opts: SessionOptions = {}): Promise<OnnxPredictor> {
    return new OnnxPredictor(await createSession(bytes, opts), sidecar);
  }

  /** The graph input for one image: what the graph cannot do itself. */
  async prepare(img: RgbImage): Promise<{ data: Float32Array | Uint8Array; geometry: Geometry }> {
    const s = this.sidecar;
    const image = s.background ? (await removeBackground(img, s.background)).image : img;
    const { cropped, geometry } = await preprocess(image, s.preprocess);
    const [h, w] = (s.input.layout === 'NHWC' ? s.input.dims.slice(1, 3) : s.input.dims.slice(2, 4)).map(Number);
    if (cropped.width !== w || cropped.height !== h)
      throw new UserError(
        `image ${img.width}x${img.height} ${s.preprocess.crop === 'none' ? 'resizes' : 'crops'} to ${cropped.width}x${cropped.height}, but the graph takes ${w}x${h}`,
      );
    // uint8 input is HWC RGB bytes, exactly RgbImage's layout
    return { data: s.input.dtype === 'uint8' ? cropped.data : normalise(cropped, s.preprocess).data, geometry };
  }

  /** Run prepared inputs (one per image) as one batch. */
  async run(inputs: (Float32Array | Uint8Array)[]): Promise<GraphOutputs> {
    const per = inputs[0].length;
    const dims = [inputs.length, ...this.sidecar.input.dims.slice(1).map(Number)];
    const tensor =
      this.sidecar.input.dtype === 'uint8'
        ? new ort.Tensor('uint8', concat(inputs, new Uint8Array(per * inputs.length)), dims)
        : new ort.Tensor('float32', concat(inputs, new Float32Array(per * inputs.length)), dims);
    const out = await this.session.run({ image: tensor });
    return { score: out.score.data as Float32Array, normalized: out.normalized.data as Float32Array, map: out.anomaly_map.data as Float32Array };
  }

  async predict(img: RgbImage): Promise<OnnxPrediction> {
    const { data, geometry } = await this.prepare(img);
    const out = await this.run([data]);
    const map: ScoreMap = { width: geometry.cropW, height: geometry.cropH, data: out.map };
    const score = out.score[0];
    const s = this.sidecar;
    // the graph's own output, unless --threshold moved the threshold it was exported with
    const normalized = this.threshold === s.threshold ? out.normalized[0] : normalizeScore(score, this.threshold, s.normalization.scale);
    let original: ScoreMap | undefined;
    return {
      score,
      normalized,
      anomalous: score > this.threshold,
      threshold: this.threshold,
      modelId: s.model_id,
      map,
      geometry,
      get mapOriginal() {
        return (original ??= toOriginal(map, geometry));
      },
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function concat<T extends Float32Array | Uint8Array>(parts: (Float32Array | Uint8Array)[], out: T): T {
  for (const [i, p] of parts.entries()) out.set(p, i * p.length);
  return out;
}
