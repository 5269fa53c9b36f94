// An orthonormal basis of (approximately) the bank's leading principal subspace, for the search's
// lower bound (nn-bound.ts). Any orthonormal basis keeps the bound a bound, so the subspace only
// has to be good, not exact: a few rounds of subspace iteration on the covariance, whose products
// run in ONNX Runtime (the bank's D×D covariance is ~3 G multiply-adds at 2,410 × 1,056).
import type { MemoryBank } from '../types.js';
import { GraphBuilder } from '../onnx/builder.js';
import { createSession, ort } from '../onnx/session.js';
import { Rng } from '../util/rng.js';

export interface PrincipalBasis {
  /** Basis vectors as rows, d × D, orthonormal to float64 precision. */
  rows: Float64Array;
  d: number;
  /** The bank's mean row (the centre the projections are taken around). */
  mean: Float64Array;
}

/** Bank rows the covariance is estimated from, at most: the basis needs the subspace, not every row. */
const SAMPLE_ROWS = 4096;

export async function principalBasis(bank: MemoryBank, d: number, iterations = 3, seed = 0): Promise<PrincipalBasis> {
  const { dim: D, size: M, data } = bank;
  if (!(d >= 1 && d <= D)) throw new Error(`principalBasis: ${d} dims of ${D}`);
  const mean = new Float64Array(D);
  for (let m = 0; m < M; m++) for (let j = 0; j < D; j++) mean[j] += data[m * D + j];
  for (let j = 0; j < D; j++) mean[j] /= M;
  const S = Math.min(M, SAMPLE_ROWS);
  const centred = new Float32Array(S * D);
  for (let s = 0; s < S; s++) {
    const m = Math.floor((s * M) / S);
    for (let j = 0; j < D; j++) centred[s * D + j] = data[m * D + j] - mean[j];
  }
  const cov = await runOnce(gramGraph(S, D), { X: new ort.Tensor('float32', centred, [S, D]) });
  const rng = new Rng(seed);
  const rows = Float64Array.from({ length: d * D }, () => rng.normal());
  orthonormalise(rows, d, D);
  const times = await createSession(timesGraph(cov, D));
  try {
    for (let it = 0; it < iterations; it++) {
      const out = await times.run({ V: new ort.Tensor('float32', Float32Array.from(rows), [d, D]) });
      rows.set(out.Y.data as Float32Array);
      orthonormalise(rows, d, D);
    }
  } finally {
    await times.release();
  }
  orthonormalise(rows, d, D); // a second pass: orthonormal to rounding, not to the first pass's error
  return { rows, d, mean };
}

/**
 * Modified Gram–Schmidt on the d rows (length D) in place. A row that vanishes against the ones
 * before it (rank-deficient data) is replaced by a unit axis vector orthogonalised the same way.
 */
export function orthonormalise(rows: Float64Array, d: number, D: number): void {
  for (let i = 0; i < d; i++) {
    const r = rows.subarray(i * D, (i + 1) * D);
    for (let attempt = 0; ; attempt++) {
      for (let p = 0; p < i; p++) {
        const q = rows.subarray(p * D, (p + 1) * D);
        let dot = 0;
        for (let j = 0; j < D; j++) dot += r[j] * q[j];
        for (let j = 0; j < D; j++) r[j] -= dot * q[j];
      }
      let norm = 0;
      for (let j = 0; j < D; j++) norm += r[j] * r[j];
      norm = Math.sqrt(norm);
      if (norm > 1e-9 || attempt >= D) {
        for (let j = 0; j < D; j++) r[j] /= norm;
        break;
      }
      r.fill(0);
      r[(i + attempt) % D] = 1;
    }
  }
}

/** XᵀX of a [S, D] input. */
function gramGraph(S: number, D: number): Uint8Array {
  const g = new GraphBuilder('gram');
  const X = g.input('X', [S, D]);
  g.op('Gemm', [X, X], { transA: 1 }, 'Y');
  g.output('Y', [D, D]);
  return g.toBytes();
}

/** V·C for the symmetric C held in the graph: the rows of V times C. */
function timesGraph(cov: Float32Array, D: number): Uint8Array {
  const g = new GraphBuilder('times');
  const V = g.input('V', ['d', D]);
  g.op('MatMul', [V, g.init('C', [D, D], cov)], {}, 'Y');
  g.output('Y', ['d', D]);
  return g.toBytes();
}

async function runOnce(graph: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await createSession(graph);
  try {
    return (await s.run(feeds)).Y.data as Float32Array;
  } finally {
    await s.release();
  }
}
