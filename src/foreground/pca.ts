// The first principal component of a sample of patch features, and Otsu's split of the values
// along it: the training-free foreground mask's two numeric pieces.
import { Rng } from '../util/rng.js';

export interface PrincipalAxis {
  /** Unit vector of the largest variance, dim entries. */
  axis: Float64Array;
  /** The sample mean, dim entries. */
  mean: Float64Array;
  /** Variance along the axis (the top eigenvalue of the sample covariance). */
  variance: number;
  iterations: number;
}

/**
 * Power iteration on the sample covariance without forming it: v ← Xcᵀ(Xc v), with Xc the
 * centred rows. Converges at the ratio of the two top eigenvalues; stops when the direction moves
 * less than `tol` (1 − |cos|) or after `maxIterations`. Deterministic: a seeded start.
 */
export function principalAxis(rows: Float32Array, n: number, dim: number, o: { maxIterations?: number; tol?: number; seed?: number } = {}): PrincipalAxis {
  if (n < 2 || rows.length < n * dim) throw new RangeError(`principalAxis: ${n} rows of ${dim} in ${rows.length} values`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] += rows[i * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= n;
  const rng = new Rng(o.seed ?? 0);
  let v = Float64Array.from({ length: dim }, () => rng.normal());
  normalise(v);
  const t = new Float64Array(n);
  const maxIt = o.maxIterations ?? 300,
    tol = o.tol ?? 1e-12;
  let variance = 0,
    it = 0;
  for (; it < maxIt; it++) {
    project(rows, n, dim, mean, v, t);
    const w = new Float64Array(dim);
    for (let i = 0; i < n; i++) {
      const ti = t[i];
      if (ti === 0) continue;
      for (let d = 0, at = i * dim; d < dim; d++) w[d] += ti * (rows[at + d] - mean[d]);
    }
    variance = normalise(w) / (n - 1);
    let cos = 0;
    for (let d = 0; d < dim; d++) cos += w[d] * v[d];
    v = w;
    if (1 - Math.abs(cos) < tol) break;
  }
  return { axis: v, mean, variance, iterations: it + 1 };
}

/** (x − mean)·axis of every row, into `out`. */
export function project(rows: Float32Array, n: number, dim: number, mean: ArrayLike<number>, axis: ArrayLike<number>, out = new Float64Array(n)): Float64Array {
  let offset = 0;
  for (let d = 0; d < dim; d++) offset += mean[d] * axis[d];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0, at = i * dim; d < dim; d++) s += rows[at + d] * axis[d];
    out[i] = s - offset;
  }
  return out;
}

/** Scales v to unit length in place; returns its former length. */
function normalise(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  const len = Math.sqrt(s);
  if (len > 0) for (let d = 0; d < v.length; d++) v[d] /= len;
  return len;
}

export interface OtsuSplit {
  /** Values above it are one class, at or below the other. */
  cut: number;
  /** Between-class over total variance, in [0, 1]: 2/π ≈ 0.64 for one Gaussian, near 1 for two far-apart modes. */
  separation: number;
}

/**
 * Otsu's threshold over a histogram of `bins` equal bins between the values' min and max: the
 * cut that maximises the between-class variance. The cut is a bin's upper edge.
 */
export function otsu(values: ArrayLike<number>, bins = 256): OtsuSplit {
  let lo = Infinity,
    hi = -Infinity,
    sum = 0;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
    sum += values[i];
  }
  const n = values.length;
  if (!(hi > lo)) return { cut: hi, separation: 0 };
  const width = (hi - lo) / bins;
  const count = new Float64Array(bins),
    total = new Float64Array(bins);
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.floor((values[i] - lo) / width));
    count[b]++;
    total[b] += values[i];
    sq += values[i] * values[i];
  }
  const mu = sum / n,
    variance = sq / n - mu * mu;
  let best = -1,
    cut = lo,
    w0 = 0,
    s0 = 0;
  for (let b = 0; b < bins - 1; b++) {
    w0 += count[b];
    s0 += total[b];
    if (w0 === 0 || w0 === n) continue;
    const m0 = s0 / w0,
      m1 = (sum - s0) / (n - w0);
    const between = (w0 / n) * (1 - w0 / n) * (m0 - m1) ** 2;
    if (between > best) {
      best = between;
      cut = lo + (b + 1) * width;
    }
  }
  return { cut, separation: variance > 0 ? Math.min(1, best / variance) : 0 };
}
