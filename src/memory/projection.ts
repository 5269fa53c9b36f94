// Dense random projection for the coreset (official: a bias-free torch Linear, D → 128).
import { Rng } from '../util/rng.js';

/** R (dim × out, row-major), entries uniform in ±1/√dim like torch.nn.Linear's default init. */
export function randomProjection(dim: number, out = 128, seed = 0): Float32Array {
  const rng = new Rng(seed);
  const bound = 1 / Math.sqrt(dim);
  const R = new Float32Array(dim * out);
  for (let i = 0; i < R.length; i++) R[i] = (2 * rng.next() - 1) * bound;
  return R;
}

/**
 * Projects batches of dim-vectors to `out` dims with one fixed R: z = Rᵀ f, accumulated in double.
 * The plain-JS reference for `OrtProjector` (the one FeatureStore runs), so kept simple rather than fast.
 */
export class Projector {
  readonly R: Float32Array;

  constructor(
    readonly dim: number,
    readonly out = 128,
    seed = 0,
  ) {
    this.R = randomProjection(dim, out, seed);
  }

  /** rows × dim → rows × out. */
  project(data: Float32Array, rows: number): Float32Array {
    const { dim, out, R } = this,
      acc = new Float64Array(out),
      target = new Float32Array(rows * out);
    for (let i = 0; i < rows; i++) {
      acc.fill(0);
      for (let d = 0; d < dim; d++) {
        const f = data[i * dim + d],
          r0 = d * out;
        for (let o = 0; o < out; o++) acc[o] += f * R[r0 + o];
      }
      target.set(acc, i * out); // rounds to float32
    }
    return target;
  }
}

/**
 * The same projection as one ONNX Runtime MatMul: ~10× faster than the JS loop (SIMD), which
 * matters because every training patch is projected. Float32 accumulation, so results differ from
 * `Projector` in the last bits; the coreset only ever compares points projected the same way.
 */
export class OrtProjector {
  private constructor(
    private readonly session: import('onnxruntime-node').InferenceSession,
    readonly dim: number,
    readonly out: number,
  ) {}

  static async create(dim: number, out = 128, seed = 0): Promise<OrtProjector> {
    const { GraphBuilder } = await import('../onnx/builder.js');
    const { createSession } = await import('../onnx/session.js');
    const g = new GraphBuilder('projection');
    g.input('f', ['N', dim]);
    g.init('R', [dim, out], randomProjection(dim, out, seed));
    g.op('MatMul', ['f', 'R'], {}, 'z');
    g.output('z', ['N', out]);
    return new OrtProjector(await createSession(g.toBytes()), dim, out);
  }

  async project(data: Float32Array, rows: number): Promise<Float32Array> {
    const { ort } = await import('../onnx/session.js');
    const r = await this.session.run({ f: new ort.Tensor('float32', data.subarray(0, rows * this.dim), [rows, this.dim]) });
    return r.z.data as Float32Array;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
