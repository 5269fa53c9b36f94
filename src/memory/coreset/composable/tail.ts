// The exact greedy continued over all rows for the last centers of a composable coreset.
//
// The composable coreset picks its centers among the union of the blocks' centers, so a rare row
// that its block did not keep is covered only through two hops (r₁ + r₂): the coverage radius on
// real features came out 6–21 % above the exact greedy's, and those rare rows are what a memory
// bank must not miss. Here the first `count − tail` composable centers are kept, every row's
// distance to them comes from one batched search (`nearest`, a Gemm: ~10× the SIMD kernel's
// speed), and the greedy goes on over all rows for the last `tail` centers.
//
// Only rows far from the kept centers can be picked: the greedy runs over the `candidates` rows
// with the largest distances (δ recomputed by the SIMD kernel, so picks do not depend on the
// search's rounding). While the largest δ among them is above τ (the largest distance of any
// other row: the search reports a true distance to some center, so an upper bound on δ), its pick
// is the all-rows greedy's pick (`continueGreedyPlain`). If it reaches τ first, the remaining
// centers are the composable's next picks not taken yet.
import fs from 'node:fs';
import { MinUpdate } from './simd.js';
import { readRange, readRows, withFile } from '../../row-file.js';
import type { Matrix, ProjectedRows } from '../../matrix.js';
import { NearestNeighbours } from '../../../scoring/nn.js';

/** Distance of each row in [0, n) to its nearest row of `centers`: a true distance to one of them (an upper bound on the nearest). */
export type NearestDistances = (centers: Int32Array) => Promise<Float64Array>;

export interface TailStats {
  /** Centers the all-rows greedy picked (the rest of the tail came from the composable order). */
  continued: number;
  candidates: number;
  /** Largest distance of a row outside the candidates to the kept centers. */
  tau: number;
}

/** Candidate rows per tail center (a run that stops at τ early wastes the tail: 64 kept it to the end on real sets). */
export const CANDIDATES_PER_CENTER = 64;

export interface TailOptions {
  /** Each row's distance to the kept centers (searchNearest). */
  nearest: NearestDistances;
  /** Default CANDIDATES_PER_CENTER. */
  candidatesPerCenter?: number;
  /** Filled in with how the run went. */
  stats?: TailStats;
}

/**
 * The first `count − tail` of `selection` (composable, in selection order), then `tail` centers
 * of the greedy continued over all rows.
 */
export async function continueGreedy(rows: Matrix<ProjectedRows>, selection: Int32Array, tail: number, o: TailOptions): Promise<Int32Array> {
  const { data: z, n, dim } = rows,
    { nearest, candidatesPerCenter = CANDIDATES_PER_CENTER, stats } = o;
  const count = selection.length,
    keep = count - tail;
  if (tail <= 0 || keep <= 0) return selection.slice();
  const base = selection.subarray(0, keep);
  const delta = await nearest(base);
  // τ: the (m + 1)-th largest distance; candidates: the rows above it (in row order, so that ties in
  // δ go to the lowest row as in the plain loop), every other row is within τ of a kept center
  const m = Math.min(n, tail * candidatesPerCenter);
  const tau = m < n ? Float64Array.from(delta).sort()[n - m - 1] : -Infinity;
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if (delta[i] > tau) candidates.push(i);
  const c0 = candidates.length;
  // candidates first, then the kept centers (kernel rows); δ² starts at ∞ and takes every kept center
  const loaded = [...candidates, ...base];
  const k = new MinUpdate(dim);
  const local = typeof z === 'string' ? withFile(z, (fd) => readRows(fd, dim, Int32Array.from(loaded))) : null;
  const d = local ? k.load(local, Int32Array.from(loaded.keys())) : k.load(z as Float32Array, loaded);
  d.fill(Infinity);
  let c = -1;
  for (let b = 0; b < keep; b++) c = k.update(c0 + b);
  // float32 rounding of the kernel's δ² (~1e-6 relative) must not let a pick below τ through
  const stop = tau > 0 ? tau * tau * (1 + 1e-5) : -1;
  const out = new Int32Array(count);
  out.set(base);
  const taken = new Set<number>(base);
  let t = keep;
  while (t < count && c >= 0 && c < c0 && d[c] > stop) {
    out[t++] = candidates[c];
    taken.add(candidates[c]);
    c = k.update(c);
  }
  const continued = t - keep;
  for (let s = keep; t < count && s < count; s++) if (!taken.has(selection[s])) out[t++] = selection[s];
  if (stats) Object.assign(stats, { continued, candidates: c0, tau });
  return out;
}

/** Rows per search batch: 16384 × 128 floats = 8 MB, and the Gemm's scratch rows × tile. */
const SEARCH_ROWS = 16384;

/**
 * `NearestDistances` over the n projected rows by the scoring's exact search (a Gemm per batch;
 * each reported distance recomputed in float64 to the center it found, so an upper bound).
 */
export function searchNearest({ data: z, n, dim }: Matrix<ProjectedRows>): NearestDistances {
  return async (centers) => {
    const fd = typeof z === 'string' ? fs.openSync(z, 'r') : -1;
    try {
      const data = fd >= 0 ? readRows(fd, dim, centers) : gather(z as Float32Array, dim, centers);
      const nn = await NearestNeighbours.create({ dim, size: centers.length, data });
      const out = new Float64Array(n);
      try {
        for (let from = 0; from < n; from += SEARCH_ROWS) {
          const to = Math.min(n, from + SEARCH_ROWS);
          // a copy: the search wants a plain (not shared) buffer
          const q = fd >= 0 ? readRange(fd, dim, { from, to }) : (z as Float32Array).slice(from * dim, to * dim);
          out.set((await nn.search(q, to - from, 1)).dist, from);
        }
      } finally {
        await nn.release();
      }
      return out;
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  };
}

function gather(z: Float32Array, dim: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, k) => out.set(z.subarray(r * dim, (r + 1) * dim), k * dim));
  return out;
}

/** The reference: the same continuation with every row a candidate (n × count distances). */
export function continueGreedyPlain({ data: z, n, dim }: Matrix, selection: Int32Array, tail: number): Int32Array {
  const count = selection.length,
    keep = count - tail;
  if (tail <= 0 || keep <= 0) return selection.slice();
  const k = new MinUpdate(dim);
  const d = k.load(
    z,
    Int32Array.from({ length: n }, (_, i) => i),
  );
  d.fill(Infinity);
  let c = -1;
  for (let b = 0; b < keep; b++) c = k.update(selection[b]);
  const out = selection.slice(0, count);
  for (let t = keep; t < count; t++) {
    out[t] = c;
    c = k.update(c);
  }
  return out;
}
