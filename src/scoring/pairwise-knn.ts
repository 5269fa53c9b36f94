// k nearest rows of B for each row of Q, with both given at run time (not a fixed bank): the
// leave-one-image-out threshold searches small, changing sets with it. Same Gemm + TopK ranking
// as nn.ts; distances here are the expansion's (ample for choosing neighbours; callers that report
// distances recompute them directly).
import { GraphBuilder } from '../onnx/builder.js';
import { rankNodes } from './knn-graph.js';
import { createSession, ort, type Device } from '../onnx/session.js';
import type { SearchResult } from './nn.js';

export class PairwiseKnn {
  private constructor(private readonly session: ort.InferenceSession, readonly dim: number) {}

  static async create(dim: number, device?: Device): Promise<PairwiseKnn> {
    const g = new GraphBuilder('pairwise-knn');
    const Q = g.input('Q', ['N', dim]);
    const B = g.input('B', ['M', dim]);
    const K = g.input('K', [1], 'int64');
    const norms = g.op('ReduceSumSquare', [B], { axes: [1], keepdims: 0 });
    const { values, index } = rankNodes(g, Q, [{ rows: B, norms, start: 0 }], K);
    const qq = g.op('ReduceSumSquare', [Q], { axes: [1], keepdims: 1 });
    g.op('Sqrt', [g.op('Relu', [g.op('Add', [values, qq])])], {}, 'dist');
    g.op('Identity', [index], {}, 'index');
    g.output('dist', ['N', 'k']);
    g.output('index', ['N', 'k'], 'int64');
    return new PairwiseKnn(await createSession(g.toBytes(), { device }), dim);
  }

  /** k (≤ m) nearest of the m rows of `b` for each of the n rows of `q`, ascending. */
  async search(q: Float32Array, n: number, b: Float32Array, m: number, k: number): Promise<SearchResult> {
    const D = this.dim;
    if (n === 0) return { index: new Int32Array(0), dist: new Float32Array(0) }; // ORT's Gemm divides by the row count
    const out = await this.session.run({
      Q: new ort.Tensor('float32', q.subarray(0, n * D), [n, D]),
      B: new ort.Tensor('float32', b.subarray(0, m * D), [m, D]),
      K: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]),
    });
    return { index: Int32Array.from(out.index.data as BigInt64Array, Number), dist: Float32Array.from(out.dist.data as Float32Array) };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Plain reference: k nearest by direct float64 distances (ties by lower index). */
export function pairwiseKnnPlain(q: Float32Array, n: number, b: Float32Array, m: number, dim: number, k: number): SearchResult {
  const index = new Int32Array(n * k), dist = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const d = Array.from({ length: m }, (_, j) => {
      let s = 0;
      for (let c = 0; c < dim; c++) s += (q[i * dim + c] - b[j * dim + c]) ** 2;
      return [Math.sqrt(s), j] as const;
    }).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    for (let t = 0; t < k; t++) (index[i * k + t] = d[t][1]), (dist[i * k + t] = d[t][0]);
  }
  return { index, dist };
}
