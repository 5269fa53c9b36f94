// The one test of the exact greedy: does the new center c lower a point's δ? It must give the
// plain version's answer exactly, so it only skips a distance when a bound proves that it
// cannot lower δ, with a slack (REL, eps) far above float rounding (computed distances are
// accurate to ~1e-14), and computes every other distance with the plain version's kernel.
import { dist2Bounded } from '../../distance.js';
import type { Matrix } from '../../matrix.js';

/** Relative slack on δ in every bound. */
export const REL = 1e-9;

export function sq(x: number): number {
  return x * x;
}

/**
 * ‖h[ho..ho+K) − yc[0..K)‖², or a partial sum already ≥ lim. The leading axes carry most of the
 * variance, so the sum of the first 4 is checked before the rest (K ≥ 4).
 */
export function headDist2(h: Float32Array, ho: number, yc: Float32Array, K: number, lim: number): number {
  const d0 = h[ho] - yc[0],
    d1 = h[ho + 1] - yc[1],
    d2 = h[ho + 2] - yc[2],
    d3 = h[ho + 3] - yc[3];
  let s = d0 * d0 + d1 * d1 + (d2 * d2 + d3 * d3);
  if (s >= lim) return s;
  for (let k = 4; k < K; k++) {
    const d = h[ho + k] - yc[k];
    s += d * d;
  }
  return s;
}

/** What the probe's bounds are made of, for one part's points. */
export interface ProbeBounds {
  /** Head length (principal axes). */
  K: number;
  /** Absolute slack covering float32 heads and the residual norms' rounding. */
  eps: number;
  /** Residual norm of each of this part's points, by local index (id >> shift). */
  rho: Float64Array;
  shift: number;
}

/**
 * The current center and the points it moves. Bounds, cheapest first, for a point with head h
 * (its K principal projections) and residual norm ρ against the center's (hc, ρc):
 *   ‖z−c‖² ≥ ‖h − hc‖²                  (16 numbers, rules out most points)
 *   ‖z−c‖² ≥ ‖h − hc‖² + (ρ − ρc)²     (the residuals' norms, one more number)
 * A point kept by both gets the exact kernel distance, stopped early at δ².
 */
export class Probe {
  /** The center's sketch: head (K floats), then its residual (dim floats, used by Window). */
  readonly yc: Float32Array;
  /** The center's residual norm. */
  rhoC = 0;
  /** Offset of the center's row in z. */
  co = 0;
  readonly mv = new Movers();
  /** Exact distances computed, and points tested (the work done). */
  distances = 0;
  tests = 0;

  private readonly z: Float32Array;
  private readonly dim: number;
  private readonly K: number;
  private readonly eps: number;
  private readonly rho: Float64Array;
  private readonly shift: number;

  constructor(rows: Matrix, b: ProbeBounds) {
    this.z = rows.data;
    this.dim = rows.dim;
    this.K = b.K;
    this.eps = b.eps;
    this.rho = b.rho;
    this.shift = b.shift;
    this.yc = new Float32Array(b.K + rows.dim);
  }

  /** If c lowers δ = dj of point `id` (head at h[ho..]), record it as a mover and return true. */
  tryMove(id: number, dj: number, h: Float32Array, ho: number): boolean {
    this.tests++;
    const limY = sq(dj * (1 + REL) + this.eps);
    const s = headDist2(h, ho, this.yc, this.K, limY);
    if (s >= limY) return false;
    const dr = this.rho[id >> this.shift] - this.rhoC;
    if (s + dr * dr >= limY) return false;
    const lim = sq(dj * (1 + REL)),
      dim = this.dim;
    this.distances++;
    const e = dist2Bounded(this.z, id * dim, this.z, this.co, dim, lim);
    if (e >= lim) return false;
    const d = Math.sqrt(e);
    if (!(d < dj)) return false; // the plain version's test, on the same value
    this.mv.push(id, d);
    return true;
  }
}

/** Growable list of the points that move to the new center in one step, with their new δ. */
export class Movers {
  size = 0;
  ids = new Int32Array(1024);
  dl = new Float64Array(1024);

  push(id: number, d: number): void {
    if (this.size === this.ids.length) {
      const ids = new Int32Array(this.size * 2),
        dl = new Float64Array(this.size * 2);
      ids.set(this.ids);
      dl.set(this.dl);
      this.ids = ids;
      this.dl = dl;
    }
    this.ids[this.size] = id;
    this.dl[this.size] = d;
    this.size++;
  }
}
