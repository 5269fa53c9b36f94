// Approximate greedy coreset (PatchCore): a plain reference and an exact fast version.
// Both return the same indices in the same order: the fast one only skips distance
// computations that provably cannot lower any δ (triangle inequality with a slack that
// dwarfs float rounding), and computes every remaining distance with the same kernel.
import { Rng } from '../util/rng.js';
import { dist2, dist2Bounded } from './distance.js';

/** Relative slack on every skip test; computed distances are accurate to ~1e-14. */
const REL = 1e-9;
export const ST={cscan:0,gcheck:0,gmem:0,pd:0,ud:0,u:0,ulast:0};

/** `count` distinct random indices in [0, n) (official: np.random.choice(n, 10, replace=False)). */
export function pickStarts(n: number, seed: number, count = 10): Int32Array {
  const k = Math.min(count, n);
  const rng = new Rng(seed);
  const chosen = new Set<number>();
  const out = new Int32Array(k);
  for (let t = 0; t < k; ) {
    const i = rng.int(n);
    if (!chosen.has(i)) { chosen.add(i); out[t++] = i; }
  }
  return out;
}

/** δ_i = mean over starts of ‖z_i − z_s‖, plus each of those distances (n × starts). */
export function initialDelta(z: Float32Array, n: number, dim: number, starts: Int32Array) {
  const S = starts.length;
  const delta = new Float64Array(n);
  const anchor = new Float64Array(n * S);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let s = 0; s < S; s++) {
      const d = Math.sqrt(dist2(z, i * dim, z, starts[s] * dim, dim));
      anchor[i * S + s] = d;
      sum += d;
    }
    delta[i] = sum / S;
  }
  return { delta, anchor };
}

/** The straightforward O(N·count·dim) reference. Ties in the argmax go to the lowest index. */
export function plainGreedyCoreset(
  z: Float32Array, n: number, dim: number, count: number, starts: Int32Array,
): Int32Array {
  const { delta } = initialDelta(z, n, dim, starts);
  const out = new Int32Array(count);
  for (let t = 0; t < count; t++) {
    let c = 0;
    for (let i = 1; i < n; i++) if (delta[i] > delta[c]) c = i;
    out[t] = c;
    const co = c * dim;
    for (let i = 0; i < n; i++) {
      const d = Math.sqrt(dist2(z, i * dim, z, co, dim));
      if (d < delta[i]) delta[i] = d;
    }
  }
  return out;
}

/** Growable scratch for the points that move to the new center in one step. */
class Movers {
  size = 0;
  ids = new Int32Array(1024);
  dl = new Float64Array(1024);
  rows: Float32Array;
  constructor(private dim: number) { this.rows = new Float32Array(1024 * dim); }
  push(id: number, d: number, src: Float32Array, off: number): void {
    if (this.size === this.ids.length) {
      const cap = this.size * 2;
      const ids = new Int32Array(cap); ids.set(this.ids); this.ids = ids;
      const dl = new Float64Array(cap); dl.set(this.dl); this.dl = dl;
      const rows = new Float32Array(cap * this.dim); rows.set(this.rows); this.rows = rows;
    }
    this.ids[this.size] = id;
    this.dl[this.size] = d;
    this.rows.set(src.subarray(off, off + this.dim), this.size * this.dim);
    this.size++;
  }
}

/** Max δ of a member list and the lowest point index holding it. */
function maxOf(ids: Int32Array, dl: Float64Array, size: number): [number, number] {
  let m = -1, a = -1;
  for (let j = 0; j < size; j++) {
    const v = dl[j];
    if (v > m || (v === m && ids[j] < a)) { m = v; a = ids[j]; }
  }
  return [m, a];
}

/**
 * Exact fast version of `plainGreedyCoreset`. Points are kept in groups by their closest
 * center (rows copied group-contiguously); a new center c only visits groups g with
 * ‖c−g‖ < 2·max δ(g), and inside them only points with ‖c−g‖ < 2·δ_i, each with an
 * early-exit distance. Points not yet covered by any center are bounded through the
 * start points: ‖z_i − c‖ ≥ |d(i,s) − d(c,s)|.
 */
export function greedyCoreset(
  z: Float32Array, n: number, dim: number, count: number, starts: Int32Array,
  onProgress?: (done: number, total: number) => void,
): Int32Array {
  const S = starts.length;
  const init = initialDelta(z, n, dim, starts);
  // The uncovered group U: ids, δ and start distances, compacted as points leave it.
  let uSize = n;
  const uIds = new Int32Array(n).map((_, i) => i);
  const uDl = init.delta;
  const uAnc = init.anchor;
  let [uMax, uArg] = maxOf(uIds, uDl, uSize);
  // Covered groups, one per center, in coreset order.
  const gIds: Int32Array[] = [], gDl: Float64Array[] = [], gRows: Float32Array[] = [];
  const gSize = new Int32Array(count), gMax = new Float64Array(count), gArg = new Int32Array(count);
  const centers = new Float32Array(count * dim);
  const dc = new Float64Array(S);
  const mv = new Movers(dim);
  const out = new Int32Array(count);
  const every = Math.max(1, Math.floor(count / 100));

  for (let t = 0; t < count; t++) {
    // Argmax over group maxima; ties → lowest point index.
    let best = uSize > 0 ? uMax : -1, c = uSize > 0 ? uArg : -1;
    for (let g = 0; g < t; g++) {
      if (gSize[g] === 0) continue;
      const v = gMax[g];
      if (v > best || (v === best && gArg[g] < c)) { best = v; c = gArg[g]; }
    }
    out[t] = c;
    const co = c * dim;
    mv.size = 0;

    for (let g = 0; g < t; g++) {
      const size = gSize[g];
      if (size === 0 || gMax[g] === 0) continue;
      const lim = sq(2 * gMax[g] * (1 + 4 * REL)); ST.cscan++;
      const s = dist2Bounded(z, co, centers, g * dim, dim, lim);
      if (s >= lim) continue; // ‖c−g‖ ≥ 2·max δ(g): no member can get closer to c
      const dcg = Math.sqrt(s) * (1 - REL); ST.gcheck++; ST.gmem+=size;
      const ids = gIds[g], dl = gDl[g], rows = gRows[g];
      let w = 0;
      for (let j = 0; j < size; j++) {
        const dj = dl[j];
        if (dcg < 2 * dj * (1 + REL)) {
          const lj = sq(dj * (1 + REL));
          const sj = dist2Bounded(rows, j * dim, z, co, dim, lj); ST.pd++;
          if (sj < lj) {
            const d = Math.sqrt(sj);
            if (d < dj) { mv.push(ids[j], d, rows, j * dim); continue; }
          }
        }
        if (w !== j) {
          ids[w] = ids[j]; dl[w] = dj;
          rows.copyWithin(w * dim, j * dim, (j + 1) * dim);
        }
        w++;
      }
      if (w !== size) {
        gSize[g] = w;
        [gMax[g], gArg[g]] = maxOf(ids, dl, w);
      }
    }

    if (uSize > 0) { ST.u+=uSize; ST.ulast=t;
      let maxDc = 0;
      for (let s = 0; s < S; s++) {
        dc[s] = Math.sqrt(dist2(z, co, z, starts[s] * dim, dim));
        if (dc[s] > maxDc) maxDc = dc[s];
      }
      let w = 0;
      for (let j = 0; j < uSize; j++) {
        const dj = uDl[j], i = uIds[j];
        let lb = 0;
        for (let s = 0; s < S; s++) {
          const v = Math.abs(uAnc[j * S + s] - dc[s]);
          if (v > lb) lb = v;
        }
        // Start distances are ≤ S·δ_i (δ_i is their mean); the slack covers their rounding.
        if (lb < dj * (1 + REL * (1 + S)) + REL * maxDc) {
          const lj = sq(dj * (1 + REL));
          const sj = dist2Bounded(z, i * dim, z, co, dim, lj); ST.ud++;
          if (sj < lj) {
            const d = Math.sqrt(sj);
            if (d < dj) { mv.push(i, d, z, i * dim); continue; }
          }
        }
        if (w !== j) {
          uIds[w] = i; uDl[w] = dj;
          uAnc.copyWithin(w * S, j * S, (j + 1) * S);
        }
        w++;
      }
      if (w !== uSize) {
        uSize = w;
        [uMax, uArg] = maxOf(uIds, uDl, uSize);
      }
    }

    // The new group t: the points that moved to c.
    centers.set(z.subarray(co, co + dim), t * dim);
    gIds.push(mv.ids.slice(0, mv.size));
    gDl.push(mv.dl.slice(0, mv.size));
    gRows.push(mv.rows.slice(0, mv.size * dim));
    gSize[t] = mv.size;
    [gMax[t], gArg[t]] = maxOf(gIds[t], gDl[t], mv.size);
    if (onProgress && ((t + 1) % every === 0 || t + 1 === count)) onProgress(t + 1, count);
  }
  return out;
}

function sq(x: number): number {
  return x * x;
}
