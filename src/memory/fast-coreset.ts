// Exact fast version of `plainGreedyCoreset`: same indices, same order. It only skips a
// distance when a bound proves that it cannot lower δ_i, with a slack (REL, epsP) far
// above float rounding (computed distances are accurate to ~1e-14), and it computes every
// other distance with the same kernel as the plain version, so all comparisons match.
import { dist2, dist2Bounded } from './distance.js';
import { initialDelta } from './coreset.js';
import { MaxTree } from './max-tree.js';
import { Rng } from '../util/rng.js';

const REL = 1e-9;
/** Number of principal axes used for cheap lower bounds. */
const AXES = 16;

/**
 * Points live in groups, one per center (their closest so far), rows copied contiguously
 * and sorted by δ descending. A new center c visits only groups g with ‖c−g‖ < 2·max δ(g)
 * (a window on the first principal axis, then ‖P(c−g)‖ over 16 orthonormal axes P), and in
 * them only points with ‖c−g‖ < 2·δ_i and ‖P(z_i−c)‖ < δ_i. Points not yet covered by any
 * center are bounded through the start points: ‖z_i − c‖ ≥ |d(i,s) − d(c,s)|.
 */
export function greedyCoreset(
  z: Float32Array, n: number, dim: number, count: number, starts: Int32Array,
  onProgress?: (done: number, total: number) => void,
): Int32Array {
  const S = starts.length;
  // P: orthonormal principal axes; ‖P(a−b)‖ ≤ ‖a−b‖ is a cheap lower bound on any distance.
  const { axes, A, maxNorm } = principalAxes(z, n, dim);
  const epsP = REL * maxNorm; // covers the rounding of two projections
  const pAll = new Float64Array(n * A);
  for (let i = 0; i < n; i++) project(axes, A, z, i * dim, dim, pAll, i * A);
  const pc = new Float64Array(A);
  const pLow = (p: Float64Array, off: number): number => { // ‖P z − P c‖ − epsP
    let s = 0;
    for (let a = 0; a < A; a++) { const d = p[off + a] - pc[a]; s += d * d; }
    return Math.sqrt(s) - epsP;
  };

  // U: points covered by no center yet (δ = mean start distance), rows read from z.
  const init = initialDelta(z, n, dim, starts);
  let uSize = n;
  const uIds = Int32Array.from({ length: n }, (_, i) => i), uDl = init.delta, uAnc = init.anchor;
  const tree = new MaxTree(count + 1); // slot g < count: group g; slot `count`: U
  const setU = () => { const [m, a] = maxOf(uIds, uDl, uSize); tree.set(count, m, a); };
  setU();

  const gIds: Int32Array[] = [], gDl: Float64Array[] = [], gP: Float64Array[] = [], gRows: Float32Array[] = [];
  const gSize = new Int32Array(count), gMax = new Float64Array(count); // gMax: δ of a group's first member
  const centers = new Float32Array(count * dim);
  const cP = new Float64Array(count * A); // P of each center
  const axisU = new Float64Array(count), axisG = new Int32Array(count); // non-empty groups by first-axis coordinate
  let nAxis = 0;
  const dc = new Float64Array(S);
  const mv = new Movers(dim, A);
  const out = new Int32Array(count);
  const every = Math.max(1, Math.floor(count / 100));

  for (let t = 0; t < count; t++) {
    const c = tree.bestIndex, r = tree.bestValue;
    out[t] = c;
    const co = c * dim;
    pc.set(pAll.subarray(c * A, (c + 1) * A));
    const uc = pc[0];
    mv.size = 0;

    const W = 2 * r * (1 + 4 * REL) + epsP; // every max δ(g) ≤ r
    for (let k = lowerBound(axisU, nAxis, uc - W); k < nAxis && axisU[k] <= uc + W; k++) {
      const g = axisG[k], gmax = gMax[g];
      if (gmax <= 0 || pLow(cP, g * A) >= 2 * gmax * (1 + 4 * REL)) continue;
      const lim = sq(2 * gmax * (1 + 4 * REL));
      const s = dist2Bounded(z, co, centers, g * dim, dim, lim);
      if (s >= lim) continue; // ‖c−g‖ ≥ 2·max δ(g): no member can get closer to c
      // A member with δ_i ≤ half has ‖z_i−c‖ ≥ ‖c−g‖ − δ_i ≥ δ_i; members are sorted, so stop there.
      const half = (Math.sqrt(s) * (1 - REL)) / (2 * (1 + REL));
      const ids = gIds[g], dl = gDl[g], gp = gP[g], rows = gRows[g], size = gSize[g];
      let w = 0, j = 0;
      for (; j < size && dl[j] > half; j++) {
        const dj = dl[j];
        if (pLow(gp, j * A) < dj * (1 + REL) && tryMove(ids[j], dj, gp, j * A, rows, j * dim)) continue;
        if (w !== j) {
          ids[w] = ids[j]; dl[w] = dj;
          copy(gp, w * A, gp, j * A, A);
          copy(rows, w * dim, rows, j * dim, dim);
        }
        w++;
      }
      if (w === j) continue; // nobody moved
      ids.copyWithin(w, j, size); dl.copyWithin(w, j, size); gp.copyWithin(w * A, j * A, size * A);
      rows.copyWithin(w * dim, j * dim, size * dim);
      const left = (gSize[g] = w + size - j);
      if (left < ids.length >> 1) { // give back memory: points keep moving to newer groups
        gIds[g] = ids.slice(0, left); gDl[g] = dl.slice(0, left);
        gP[g] = gp.slice(0, left * A); gRows[g] = rows.slice(0, left * dim);
      }
      gMax[g] = left > 0 ? dl[0] : -Infinity;
      tree.set(g, gMax[g], left > 0 ? ids[0] : 0x7fffffff);
    }

    if (uSize > 0) {
      let maxDc = 0;
      for (let s = 0; s < S; s++) maxDc = Math.max(maxDc, (dc[s] = Math.sqrt(dist2(z, co, z, starts[s] * dim, dim))));
      let w = 0;
      for (let j = 0; j < uSize; j++) {
        const dj = uDl[j], i = uIds[j];
        let lb = pLow(pAll, i * A);
        for (let s = 0; s < S; s++) lb = Math.max(lb, Math.abs(uAnc[j * S + s] - dc[s]));
        // Start distances are ≤ S·δ_i (δ_i is their mean); the slack covers their rounding.
        if (lb < dj * (1 + REL * (1 + S)) + REL * maxDc && tryMove(i, dj, pAll, i * A, z, i * dim)) continue;
        if (w !== j) {
          uIds[w] = i; uDl[w] = dj;
          copy(uAnc, w * S, uAnc, j * S, S);
        }
        w++;
      }
      if (w !== uSize) { uSize = w; setU(); }
    }

    // The new group t: the points that moved to c, sorted by (δ desc, index asc).
    centers.set(z.subarray(co, co + dim), t * dim);
    addGroup(t);
    if (onProgress && ((t + 1) % every === 0 || t + 1 === count)) onProgress(t + 1, count);

    /** Exact plain-version test: does c lower δ of point `id`? If so, collect it. */
    function tryMove(id: number, dj: number, p: Float64Array, pOff: number, rows: Float32Array, off: number): boolean {
      const lim = sq(dj * (1 + REL));
      const s = dist2Bounded(rows, off, z, co, dim, lim);
      if (s >= lim) return false;
      const d = Math.sqrt(s);
      if (!(d < dj)) return false;
      mv.push(id, d, p, pOff, rows, off);
      return true;
    }
  }
  return out;

  function addGroup(t: number): void {
    const m = mv.size;
    const order = Array.from({ length: m }, (_, k) => k).sort((a, b) => mv.dl[b] - mv.dl[a] || mv.ids[a] - mv.ids[b]);
    const ids = new Int32Array(m), dl = new Float64Array(m), gp = new Float64Array(m * A), rows = new Float32Array(m * dim);
    for (let k = 0; k < m; k++) {
      const o = order[k];
      ids[k] = mv.ids[o]; dl[k] = mv.dl[o];
      copy(gp, k * A, mv.p, o * A, A);
      copy(rows, k * dim, mv.rows, o * dim, dim);
    }
    gIds.push(ids); gDl.push(dl); gP.push(gp); gRows.push(rows);
    gSize[t] = m;
    if (m === 0) return;
    gMax[t] = dl[0];
    tree.set(t, dl[0], ids[0]);
    cP.set(pAll.subarray(out[t] * A, (out[t] + 1) * A), t * A);
    const uc = cP[t * A], at = lowerBound(axisU, nAxis, uc);
    axisU.copyWithin(at + 1, at, nAxis); axisG.copyWithin(at + 1, at, nAxis);
    axisU[at] = uc; axisG[at] = t;
    nAxis++;
  }
}

/** Growable scratch for the points that move to the new center in one step. */
class Movers {
  size = 0;
  ids = new Int32Array(1024);
  dl = new Float64Array(1024);
  p: Float64Array;
  rows: Float32Array;
  constructor(private dim: number, private A: number) {
    this.rows = new Float32Array(1024 * dim);
    this.p = new Float64Array(1024 * A);
  }
  push(id: number, d: number, p: Float64Array, pOff: number, src: Float32Array, off: number): void {
    if (this.size === this.ids.length) {
      const grow = <T extends Int32Array | Float64Array | Float32Array>(a: T, len: number): T => {
        const b = new (a.constructor as new (n: number) => T)(len); b.set(a); return b;
      };
      this.ids = grow(this.ids, this.size * 2); this.dl = grow(this.dl, this.size * 2);
      this.p = grow(this.p, this.size * 2 * this.A); this.rows = grow(this.rows, this.size * 2 * this.dim);
    }
    this.ids[this.size] = id; this.dl[this.size] = d;
    copy(this.p, this.size * this.A, p, pOff, this.A);
    copy(this.rows, this.size * this.dim, src, off, this.dim);
    this.size++;
  }
}

/**
 * Up to AXES orthonormal directions of largest variance (subspace iteration on a row
 * sample, Gram–Schmidt in double), and the largest row norm. Only orthonormality matters
 * for correctness; how well they match the true principal axes only affects speed.
 */
function principalAxes(z: Float32Array, n: number, dim: number): { axes: Float64Array; A: number; maxNorm: number } {
  const A = Math.min(AXES, dim), zero = new Float32Array(dim);
  let maxNorm = 0;
  for (let i = 0; i < n; i++) maxNorm = Math.max(maxNorm, Math.sqrt(dist2(z, i * dim, zero, 0, dim)));
  const step = Math.max(1, Math.floor(n / 4096)), mean = new Float64Array(dim), x = new Float64Array(dim);
  let m = 0;
  for (let i = 0; i < n; i += step, m++) for (let k = 0; k < dim; k++) mean[k] += z[i * dim + k];
  for (let k = 0; k < dim; k++) mean[k] /= m;
  const C = new Float64Array(dim * dim); // sample covariance (unnormalised)
  for (let i = 0; i < n; i += step) {
    for (let k = 0; k < dim; k++) x[k] = z[i * dim + k] - mean[k];
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) C[a * dim + b] += x[a] * x[b];
  }
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
      else { for (let k = 0; k < dim; k++) v[k] = rng.normal(); r--; } // redo this row
    }
}

/** out[oOff..+A] = axes · a[off..+dim]. */
function project(axes: Float64Array, A: number, a: Float32Array, off: number, dim: number, out: Float64Array, oOff: number): void {
  for (let r = 0; r < A; r++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += axes[r * dim + k] * a[off + k];
    out[oOff + r] = s;
  }
}

/** Max δ of a member list and the lowest point index holding it (−∞ when empty). */
function maxOf(ids: Int32Array, dl: Float64Array, size: number): [number, number] {
  let m = -Infinity, a = 0x7fffffff;
  for (let j = 0; j < size; j++) {
    const v = dl[j];
    if (v > m || (v === m && ids[j] < a)) { m = v; a = ids[j]; }
  }
  return [m, a];
}

/** First k in [0, len) with a[k] ≥ x (a sorted ascending). */
function lowerBound(a: Float64Array, len: number, x: number): number {
  let lo = 0, hi = len;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid] < x) lo = mid + 1; else hi = mid; }
  return lo;
}

/** A short copy without the per-call cost of TypedArray.set / copyWithin. */
function copy<T extends Float32Array | Float64Array>(dst: T, dOff: number, src: T, sOff: number, len: number): void {
  for (let k = 0; k < len; k++) dst[dOff + k] = src[sOff + k];
}

function sq(x: number): number {
  return x * x;
}
