// k nearest rows of B for each row of Q, with both given at run time (not a fixed bank): the
// leave-one-image-out threshold searches small, changing sets with it. Same Gemm + TopK ranking
// as nn.ts; distances here are the expansion's (ample for choosing neighbours; callers that report
// distances recompute them directly).
import { GraphBuilder } from '../onnx/builder.js';
import { rankInRuns, rankNodes } from './knn-graph.js';
import { createSession, ort, type Device } from '../onnx/session.js';
import type { SearchResult } from './nn.js';

/**
 * Floats of Gemm scratch (queries × rows of B) per graph run, 64 MB: one whole image at 724 px
 * against the leave-one-out bank in a single run took 1.1 GB.
 */
const SCRATCH = 16 * 1024 * 1024;

export class PairwiseKnn {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly dim: number,
    private readonly scratch: number,
  ) {}

  /** `scratch`: floats of Gemm output per run (tests make it small to run several). */
  static async create(dim: number, device?: Device, scratch = SCRATCH): Promise<PairwiseKnn> {
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
    return new PairwiseKnn(await createSession(g.toBytes(), { device }), dim, scratch);
  }

  /** k (≤ m) nearest of the m rows of `b` for each of the n rows of `q`, ascending. */
  async search(q: Float32Array, n: number, b: Float32Array, m: number, k: number): Promise<SearchResult> {
    const D = this.dim;
    const B = new ort.Tensor('float32', unshared(b.subarray(0, m * D)), [m, D]);
    const K = new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]);
    // queries in runs of at most scratch / m rows
    const step = Math.max(1, Math.floor(this.scratch / Math.max(1, m)));
    return rankInRuns(n, k, step, (start, rows) =>
      this.session.run({ Q: new ort.Tensor('float32', unshared(q.subarray(start * D, (start + rows) * D)), [rows, D]), B, K }),
    );
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Plain reference: k nearest by direct float64 distances (ties by lower index). */
export function pairwiseKnnPlain(q: Float32Array, n: number, b: Float32Array, m: number, dim: number, k: number): SearchResult {
  const index = new Int32Array(n * k),
    dist = new Float32Array(n * k);
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

/**
 * ONNX Runtime rejects typed arrays over a SharedArrayBuffer ("Invalid argument"); the feature
 * store's projections live in one (the coreset's second thread reads them without a copy).
 */
function unshared(a: Float32Array): Float32Array {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer ? a.slice() : a;
}
