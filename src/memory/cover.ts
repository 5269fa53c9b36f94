// The coreset's coverage radius and the greedy k-center carried on past fit. Both work in the
// space the coreset selected in (the store's random projection), so the radius fit records and the
// one an update keeps are the same quantity.
import { dist2 } from './distance.js';
import type { FeatureStore } from './feature-store.js';
import type { Matrix } from './matrix.js';
import type { PairwiseKnn } from '../scoring/pairwise-knn.js';
import { pairwiseKnnPlain } from '../scoring/pairwise-knn.js';

/** Rows per search call: bounds the queries × bank scratch inside PairwiseKnn and the copies here. */
const TILE = 16384;

/** Each row's distance to its nearest bank row (both the same width). */
export type NearestDistance = (rows: Matrix, bank: Matrix) => Promise<Float32Array>;

/** The fast nearest distances: ONNX Runtime's Gemm + TopK (scoring/pairwise-knn.ts), tiled. */
export function ortNearest(knn: PairwiseKnn): NearestDistance {
  return async ({ data: rows, n, dim }, bank) => {
    const out = new Float32Array(n);
    for (let r0 = 0; r0 < n; r0 += TILE) {
      const k = Math.min(TILE, n - r0);
      const r = await knn.search(rows.subarray(r0 * dim, (r0 + k) * dim), k, bank.data, bank.n, 1);
      out.set(r.dist.subarray(0, k), r0);
    }
    return out;
  };
}

/** The plain reference: direct float64 distances. */
export const plainNearest: NearestDistance = async (rows, bank) => pairwiseKnnPlain(rows.data, rows.n, bank.data, bank.n, rows.dim, 1).dist;

/** n rows read a block at a time: `at(from, to)` returns rows [from, to), so a spilled store is never held whole. */
export interface RowBlocks {
  n: number;
  at: (from: number, to: number) => Float32Array;
}

/** The coverage radius: the largest distance from a row to its nearest bank row. */
export async function coverageRadius(rows: RowBlocks, bank: Matrix, nearest: NearestDistance): Promise<number> {
  const { n } = rows;
  let radius = 0;
  for (let r0 = 0; r0 < n; r0 += TILE) {
    const k = Math.min(TILE, n - r0);
    const d = await nearest({ data: rows.at(r0, r0 + k), n: k, dim: bank.dim }, bank);
    for (let i = 0; i < k; i++) if (d[i] > radius) radius = d[i];
  }
  return radius;
}

/** What carrying the greedy on added: new rows in selection order, and each row's final distance to the grown bank. */
export interface CoverExtension {
  added: Int32Array;
  delta: Float64Array;
}

/**
 * Greedy k-center continued over new rows: δ starts as each row's distance to the bank (`delta0`,
 * from a NearestDistance); while the farthest row lies beyond `radius` it becomes a bank row and
 * every δ drops to its distance to it. It stops when every row is within `radius` of the grown bank
 * (ties to the lowest index, as at fit).
 */
export function extendCover(m: Matrix, radius: number, delta0: ArrayLike<number>): CoverExtension {
  const { data: rows, n, dim } = m;
  const delta = Float64Array.from(delta0);
  const added: number[] = [];
  for (;;) {
    let c = -1;
    for (let i = 0; i < n; i++) if (delta[i] > radius && (c < 0 || delta[i] > delta[c])) c = i;
    if (c < 0) break;
    added.push(c);
    const co = c * dim;
    for (let i = 0; i < n; i++) {
      if (delta[i] === 0) continue;
      const d = Math.sqrt(dist2(rows, i * dim, rows, co, dim));
      if (d < delta[i]) delta[i] = d;
    }
    delta[c] = 0;
  }
  return { added: Int32Array.from(added), delta };
}

/**
 * For models saved before the radius was recorded: the smallest distance between two bank rows.
 * In the greedy k-center each new center's distance to the earlier ones is the radius at that step,
 * and these only shrink, so this stands in for the last one (an estimate: the true final radius is
 * at most the last step's, and may be below this).
 */
export async function estimateRadius(bank: Float32Array, m: number, dim: number, knn: PairwiseKnn | null): Promise<number> {
  if (m < 2) return 0;
  let best = Infinity;
  for (let r0 = 0; r0 < m; r0 += TILE) {
    const k = Math.min(TILE, m - r0);
    const q = bank.subarray(r0 * dim, (r0 + k) * dim);
    const r = knn ? await knn.search(q, k, bank, m, 2) : pairwiseKnnPlain(q, k, bank, m, dim, 2);
    for (let i = 0; i < k; i++) {
      // the nearest is the row itself (distance ~0), unless a duplicate ranked first
      const d = r.index[i * 2] === r0 + i ? r.dist[i * 2 + 1] : r.dist[i * 2];
      if (d > 0 && d < best) best = d;
    }
  }
  return Number.isFinite(best) ? best : 0;
}

/** The radius of a bank drawn from `store` (entries at store rows `origin`), on the store's projections. */
export async function storeCoverageRadius(store: FeatureStore, origin: Int32Array, knn: PairwiseKnn): Promise<number> {
  const P = store.projectDim;
  const at = (from: number, to: number) => store.projectedRows(Int32Array.from({ length: to - from }, (_, i) => from + i));
  return coverageRadius({ n: store.count, at }, { data: store.projectedRows(origin), n: origin.length, dim: P }, ortNearest(knn));
}
