// Principal axes for the exact greedy's cheap lower bounds (see part.ts): a point's
// "head" is its projection on K orthonormal axes of largest variance, which carries most of
// a distance in a few numbers; the rest of the distance is bounded through the norm of the
// residual (what the axes miss).
import { dist2 } from '../../distance.js';
import { Rng } from '../../../util/rng.js';
import type { Matrix } from '../../matrix.js';

/** Number of principal axes used for cheap lower bounds. */
export const AXES = 16;

export interface Geometry {
  /** A rows of `dim` doubles, orthonormal to ~1e-16. */
  axes: Float64Array;
  A: number;
  /** Largest row norm: scales the slack that covers float32 heads and residual norms. */
  maxNorm: number;
}

/**
 * Up to AXES orthonormal directions of largest variance (subspace iteration on a row
 * sample, Gram–Schmidt in double), and the largest row norm. Only orthonormality matters
 * for correctness; how well they match the true principal axes only affects speed.
 */
export function principalAxes({ data: z, n, dim }: Matrix): Geometry {
  const A = Math.min(AXES, dim),
    zero = new Float32Array(dim);
  let maxNorm = 0;
  for (let i = 0; i < n; i++) maxNorm = Math.max(maxNorm, dist2(z, i * dim, zero, 0, dim));
  maxNorm = Math.sqrt(maxNorm);
  const C = covariance(z, n, dim);
  const rng = new Rng(1);
  let Q = Float64Array.from({ length: A * dim }, () => rng.normal()); // A rows of length dim
  orthonormalize(Q, A, dim);
  for (let it = 0; it < 15; it++) {
    const next = new Float64Array(A * dim);
    for (let r = 0; r < A; r++)
      for (let a = 0; a < dim; a++) {
        let s = 0;
        for (let b = 0; b < dim; b++) s += C[a * dim + b] * Q[r * dim + b];
        next[r * dim + a] = s;
      }
    orthonormalize(next, A, dim);
    Q = next;
  }
  return { axes: Q, A, maxNorm };
}

/** Unnormalised covariance of ~1024 sampled rows: enough to find the top axes, O(rows·dim²/2). */
function covariance(z: Float32Array, n: number, dim: number): Float64Array {
  const step = Math.max(1, Math.floor(n / 1024)),
    mean = new Float64Array(dim),
    x = new Float64Array(dim);
  let m = 0;
  for (let i = 0; i < n; i += step, m++) for (let k = 0; k < dim; k++) mean[k] += z[i * dim + k];
  for (let k = 0; k < dim; k++) mean[k] /= m;
  const C = new Float64Array(dim * dim); // upper triangle, then mirrored
  for (let i = 0; i < n; i += step) {
    for (let k = 0; k < dim; k++) x[k] = z[i * dim + k] - mean[k];
    for (let a = 0; a < dim; a++) {
      const xa = x[a],
        row = a * dim;
      for (let b = a; b < dim; b++) C[row + b] += xa * x[b];
    }
  }
  for (let a = 0; a < dim; a++) for (let b = 0; b < a; b++) C[a * dim + b] = C[b * dim + a];
  return C;
}

/** Modified Gram–Schmidt, applied twice for orthogonality to ~1e-16; degenerate rows become random. */
function orthonormalize(Q: Float64Array, rows: number, dim: number): void {
  const rng = new Rng(2);
  for (let pass = 0; pass < 2; pass++)
    for (let r = 0; r < rows; r++) {
      const v = Q.subarray(r * dim, (r + 1) * dim);
      for (let q = 0; q < r; q++) {
        const u = Q.subarray(q * dim, (q + 1) * dim);
        let d = 0;
        for (let k = 0; k < dim; k++) d += u[k] * v[k];
        for (let k = 0; k < dim; k++) v[k] -= d * u[k];
      }
      const norm = Math.hypot(...v);
      if (norm > 1e-8) for (let k = 0; k < dim; k++) v[k] /= norm;
      else {
        for (let k = 0; k < dim; k++) v[k] = rng.normal();
        r--;
      } // redo this row
    }
}

/** Heads and sketches of rows of `dim` floats on A orthonormal axes (A rows of `dim` doubles). */
export class Heads {
  constructor(
    private readonly axes: Float64Array,
    private readonly A: number,
    private readonly dim: number,
  ) {}

  /**
   * The head of the row at zOff (A projections, rounded once to float32 into out[oOff..]) and
   * the norm of its residual, as √(‖z‖² − ‖Pz‖²) in double: A·dim operations instead of the
   * 2·A·dim an explicit residual costs. The cancellation error is ≲ 1e-7·‖z‖ (the slack in
   * part.ts is 1e-5·maxNorm).
   */
  of(z: Float32Array, zOff: number, out: Float32Array, oOff: number): number {
    const { axes, A, dim } = this;
    let zz = 0,
      hh = 0;
    for (let k = 0; k < dim; k++) zz += z[zOff + k] * z[zOff + k];
    let r = 0;
    for (; r + 4 <= A; r += 4) {
      // four axes per pass over the row: a quarter of the loads of z
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      const o = r * dim;
      for (let k = 0; k < dim; k++) {
        const x = z[zOff + k];
        s0 += axes[o + k] * x;
        s1 += axes[o + dim + k] * x;
        s2 += axes[o + 2 * dim + k] * x;
        s3 += axes[o + 3 * dim + k] * x;
      }
      out[oOff + r] = s0;
      out[oOff + r + 1] = s1;
      out[oOff + r + 2] = s2;
      out[oOff + r + 3] = s3;
      hh += s0 * s0 + s1 * s1 + s2 * s2 + s3 * s3;
    }
    for (; r < A; r++) {
      let s = 0;
      const o = r * dim;
      for (let k = 0; k < dim; k++) s += axes[o + k] * z[zOff + k];
      out[oOff + r] = s;
      hh += s * s;
    }
    return Math.sqrt(Math.max(0, zz - hh));
  }

  /**
   * The full sketch of a center: its head (A floats) then its residual z − PᵀPz (dim floats,
   * computed in double, rounded once). ‖y(a) − y(b)‖ = ‖a − b‖ up to float32 rounding, so
   * partial sums over it bound center-to-center distances (window.ts). Returns the
   * residual's norm.
   */
  sketch(z: Float32Array, zOff: number, out: Float32Array, scratch: Float64Array): number {
    const { axes, A, dim } = this;
    const res = scratch;
    for (let k = 0; k < dim; k++) res[k] = z[zOff + k];
    for (let r = 0; r < A; r++) {
      let s = 0;
      const o = r * dim;
      for (let k = 0; k < dim; k++) s += axes[o + k] * z[zOff + k];
      out[r] = s;
      for (let k = 0; k < dim; k++) res[k] -= s * axes[o + k];
    }
    let rr = 0;
    for (let k = 0; k < dim; k++) {
      out[A + k] = res[k];
      rr += res[k] * res[k];
    }
    return Math.sqrt(rr);
  }
}
