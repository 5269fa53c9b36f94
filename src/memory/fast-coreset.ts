// Exact fast version of `plainGreedyCoreset`: same indices, same order. It only skips a
// distance when a bound proves that it cannot lower δ_i, with a slack (REL, epsU) far
// above float rounding (computed distances are accurate to ~1e-14), and it computes every
// other distance with the same kernel as the plain version, so all comparisons match.
import { dist2, dist2Bounded } from './distance.js';
import { initialDelta } from './coreset.js';
import { MaxTree } from './max-tree.js';

const REL = 1e-9;
export const ST={win:0,nax:0};

/**
 * Points live in groups, one per center (their closest so far), rows copied contiguously
 * and sorted by δ descending. A new center c visits only groups g with ‖c−g‖ < 2·max δ(g)
 * (found through a window on the principal axis), and in them only points with
 * ‖c−g‖ < 2·δ_i and |axis·(z_i − c)| < δ_i. Points not yet covered by any center are
 * bounded through the start points: ‖z_i − c‖ ≥ |d(i,s) − d(c,s)|.
 */
export function greedyCoreset(
  z: Float32Array, n: number, dim: number, count: number, starts: Int32Array,
  onProgress?: (done: number, total: number) => void,
): Int32Array {
  const S = starts.length;
  const { axis, maxNorm } = principalAxis(z, n, dim);
  const epsU = 4 * REL * maxNorm; // covers the rounding of two axis projections
  const proj = (a: Float32Array, off: number): number => {
    let s = 0;
    for (let k = 0; k < dim; k++) s += axis[k] * a[off + k];
    return s;
  };
  const uAll = new Float64Array(n);
  for (let i = 0; i < n; i++) uAll[i] = proj(z, i * dim);

  // U: points covered by no center yet (δ = mean start distance), rows read from z.
  const init = initialDelta(z, n, dim, starts);
  let uSize = n;
  const uIds = Int32Array.from({ length: n }, (_, i) => i), uDl = init.delta, uAnc = init.anchor;
  const tree = new MaxTree(count + 1); // slot g < count: group g; slot `count`: U
  const setU = () => { const [m, a] = maxOf(uIds, uDl, uSize); tree.set(count, m, a); };
  setU();

  const gIds: Int32Array[] = [], gDl: Float64Array[] = [], gU: Float64Array[] = [], gRows: Float32Array[] = [];
  const gSize = new Int32Array(count), gMax = new Float64Array(count); // gMax: δ of a group's first member
  const centers = new Float32Array(count * dim);
  const axisU = new Float64Array(count), axisG = new Int32Array(count); // non-empty groups by axis coordinate
  let nAxis = 0;
  const dc = new Float64Array(S);
  const mv = new Movers(dim);
  const out = new Int32Array(count);
  const every = Math.max(1, Math.floor(count / 100));

  for (let t = 0; t < count; t++) {
    const c = tree.bestIndex, r = tree.bestValue;
    out[t] = c;
    const co = c * dim, uc = uAll[c];
    mv.size = 0;

    const W = 2 * r * (1 + 4 * REL) + epsU; // every max δ(g) ≤ r
    if (process.env.CSTAT) { const lo=lowerBound(axisU, nAxis, uc - W), hi=lowerBound(axisU, nAxis, uc + W); ST.win+=hi-lo; ST.nax+=nAxis; }
    for (let k = lowerBound(axisU, nAxis, uc - W); k < nAxis && axisU[k] <= uc + W; k++) {
      const g = axisG[k], gmax = gMax[g];
      if (gmax <= 0 || Math.abs(axisU[k] - uc) >= 2 * gmax * (1 + 4 * REL) + epsU) continue;
      const lim = sq(2 * gmax * (1 + 4 * REL));
      const s = dist2Bounded(z, co, centers, g * dim, dim, lim);
      if (s >= lim) continue; // ‖c−g‖ ≥ 2·max δ(g): no member can get closer to c
      // A member with δ_i ≤ half has ‖z_i−c‖ ≥ ‖c−g‖ − δ_i ≥ δ_i; members are sorted, so stop there.
      const half = (Math.sqrt(s) * (1 - REL)) / (2 * (1 + REL));
      const ids = gIds[g], dl = gDl[g], gu = gU[g], rows = gRows[g], size = gSize[g];
      let w = 0, j = 0;
      for (; j < size && dl[j] > half; j++) {
        const dj = dl[j];
        if (Math.abs(gu[j] - uc) < dj * (1 + REL) + epsU && tryMove(ids[j], dj, gu[j], rows, j * dim)) continue;
        if (w !== j) {
          ids[w] = ids[j]; dl[w] = dj; gu[w] = gu[j];
          rows.copyWithin(w * dim, j * dim, (j + 1) * dim);
        }
        w++;
      }
      if (w === j) continue; // nobody moved
      ids.copyWithin(w, j, size); dl.copyWithin(w, j, size); gu.copyWithin(w, j, size);
      rows.copyWithin(w * dim, j * dim, size * dim);
      const left = (gSize[g] = w + size - j);
      gMax[g] = left > 0 ? dl[0] : -Infinity;
      tree.set(g, gMax[g], left > 0 ? ids[0] : 0x7fffffff);
    }

    if (uSize > 0) {
      let maxDc = 0;
      for (let s = 0; s < S; s++) maxDc = Math.max(maxDc, (dc[s] = Math.sqrt(dist2(z, co, z, starts[s] * dim, dim))));
      let w = 0;
      for (let j = 0; j < uSize; j++) {
        const dj = uDl[j], i = uIds[j];
        let lb = Math.abs(uAll[i] - uc) - epsU;
        for (let s = 0; s < S; s++) lb = Math.max(lb, Math.abs(uAnc[j * S + s] - dc[s]));
        // Start distances are ≤ S·δ_i (δ_i is their mean); the slack covers their rounding.
        if (lb < dj * (1 + REL * (1 + S)) + REL * maxDc && tryMove(i, dj, uAll[i], z, i * dim)) continue;
        if (w !== j) {
          uIds[w] = i; uDl[w] = dj;
          uAnc.copyWithin(w * S, j * S, (j + 1) * S);
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
    function tryMove(id: number, dj: number, u: number, rows: Float32Array, off: number): boolean {
      const lim = sq(dj * (1 + REL));
      const s = dist2Bounded(rows, off, z, co, dim, lim);
      if (s >= lim) return false;
      const d = Math.sqrt(s);
      if (!(d < dj)) return false;
      mv.push(id, d, u, rows, off);
      return true;
    }
  }
  return out;

  function addGroup(t: number): void {
    const m = mv.size;
    const order = Int32Array.from({ length: m }, (_, k) => k)
      .sort((a, b) => mv.dl[b] - mv.dl[a] || mv.ids[a] - mv.ids[b]);
    const ids = new Int32Array(m), dl = new Float64Array(m), gu = new Float64Array(m), rows = new Float32Array(m * dim);
    for (let k = 0; k < m; k++) {
      const o = order[k];
      ids[k] = mv.ids[o]; dl[k] = mv.dl[o]; gu[k] = mv.u[o];
      rows.set(mv.rows.subarray(o * dim, (o + 1) * dim), k * dim);
    }
    gIds.push(ids); gDl.push(dl); gU.push(gu); gRows.push(rows);
    gSize[t] = m;
    if (m === 0) return;
    gMax[t] = dl[0];
    tree.set(t, dl[0], ids[0]);
    const uc = proj(centers, t * dim), at = lowerBound(axisU, nAxis, uc);
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
  u = new Float64Array(1024);
  rows: Float32Array;
  constructor(private dim: number) { this.rows = new Float32Array(1024 * dim); }
  push(id: number, d: number, u: number, src: Float32Array, off: number): void {
    if (this.size === this.ids.length) {
      const grow = <T extends Int32Array | Float64Array | Float32Array>(a: T, len: number): T => {
        const b = new (a.constructor as new (n: number) => T)(len); b.set(a); return b;
      };
      this.ids = grow(this.ids, this.size * 2); this.dl = grow(this.dl, this.size * 2);
      this.u = grow(this.u, this.size * 2); this.rows = grow(this.rows, this.size * 2 * this.dim);
    }
    this.ids[this.size] = id; this.dl[this.size] = d; this.u[this.size] = u;
    this.rows.set(src.subarray(off, off + this.dim), this.size * this.dim);
    this.size++;
  }
}

/** Unit principal direction of a row sample (power iteration) and the largest row norm. */
function principalAxis(z: Float32Array, n: number, dim: number): { axis: Float64Array; maxNorm: number } {
  let maxNorm = 0;
  for (let i = 0; i < n; i++) maxNorm = Math.max(maxNorm, Math.sqrt(dist2(z, i * dim, new Float32Array(dim), 0, dim)));
  const step = Math.max(1, Math.floor(n / 4096)), mean = new Float64Array(dim);
  let m = 0;
  for (let i = 0; i < n; i += step, m++) for (let k = 0; k < dim; k++) mean[k] += z[i * dim + k];
  for (let k = 0; k < dim; k++) mean[k] /= m;
  let axis = Float64Array.from({ length: dim }, (_, k) => 1 + k / dim);
  for (let it = 0; it < 30; it++) {
    const next = new Float64Array(dim);
    for (let i = 0; i < n; i += step) {
      let p = 0;
      for (let k = 0; k < dim; k++) p += (z[i * dim + k] - mean[k]) * axis[k];
      for (let k = 0; k < dim; k++) next[k] += p * (z[i * dim + k] - mean[k]);
    }
    const norm = Math.hypot(...next);
    if (!(norm > 0)) break; // all sample rows equal: any unit axis works
    axis = next.map((v) => v / norm);
  }
  const norm = Math.hypot(...axis);
  return { axis: axis.map((v) => v / norm), maxNorm };
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

function sq(x: number): number {
  return x * x;
}
