// Exact accelerated version of `plainGreedyCoreset` (../plain.ts): same indices, same order. Per new
// center, the plain version updates every point's δ; this one only computes distances that
// bounds cannot rule out, and every distance it computes uses the plain version's kernel, so
// all comparisons (and the argmax tie-break: lowest index) match.
//
//   principal-axes.ts    16 principal axes: a point's head + residual norm give cheap lower bounds
//   probe.ts     the per-point test "does c lower δ_i?" and its slack
//   groups.ts    points grouped by closest center, sorted by δ (a visit stops early)
//   window.ts    which groups a new center can affect (window on the first axis)
//   unassigned.ts  points no center has reached yet (bounded through the start points)
//   part.ts      one thread's points: the above plus a max-tree for the next center
//   board.ts     what the parts read from each other (candidate groups, groups' max δ)
//   threads.ts   the optional two-thread driver (worker.ts is the other thread, protocol.ts their control words)
//   job.ts       what a run is built from (rows, count, starts, axes), as the worker receives it
import os from 'node:os';
import { Part } from './part.js';
import { Board } from './board.js';
import { idleCores, twoThreads } from './threads.js';
import { principalAxes } from './principal-axes.js';
import { plainGreedyCoreset } from '../plain.js';
import type { Matrix } from '../../matrix.js';

/** Below this n·count, one thread without asking: a worker costs ~0.1 s and sampling idle cores 50 ms,
 * ~7 % of a 47k × 4.7k selection (0.7 s), which two threads do not win back. */
const THREAD_MIN_WORK = 1e9;

export interface GreedyCoresetOptions {
  /** Number of centers. */
  count: number;
  /** The starting points: δ_i starts as the mean distance to them. */
  starts: Int32Array;
  onProgress?: (done: number, total: number) => void;
  /**
   * 1 or 2. Default: 2 for large inputs (n·count ≥ 1e9) when ≥ 1.5 cores are idle right
   * now (sampled over 50 ms): the two threads advance in lockstep, so on a machine whose
   * cores are busy with other work a second thread costs more than it brings.
   */
  threads?: number;
  /** Filled in with how the run went: threads used and exact distances each computed. */
  stats?: GreedyStats;
}

export interface GreedyStats {
  threads: number;
  /** Exact distances computed per thread (main thread first). */
  distances: number[];
  /** Work units per thread: points tested + 8 per exact distance + 2 per window group checked. */
  work: number[];
}

/**
 * Whether a run may go on at iteration t with `work` units done: not past `budget`; from 1 % of the
 * iterations (and the 10th) on, not heading for more than 8× it; from 5 % on, not for more than 2× (a straight
 * extrapolation, which overestimates: the early centers move the most points). On real features
 * (tire, 131k–576k rows) the runs that fail head for ~40× at 1 %: they stop there instead of
 * spending the whole budget, which was a third to a half of the coreset stage.
 */
export function withinBudget(budget: number, count: number): (t: number, work: number) => boolean {
  return (t, work) => {
    const heading = (work * count) / (t + 1);
    return work <= budget && (100 * (t + 1) < count || t < 9 || heading <= 8 * budget) && (20 * (t + 1) < count || heading <= 2 * budget);
  };
}

/**
 * Indices of the approximate-greedy (k-center) coreset of the rows, in selection order,
 * starting from δ_i = mean distance to the `starts` rows: exactly what `plainGreedyCoreset` returns.
 */
export function greedyCoreset(rows: Matrix, opts: GreedyCoresetOptions): Int32Array {
  return greedyCoresetWithin(rows, Infinity, opts)!;
}

/** `greedyCoreset`, or null once its work units exceed (or head for 2×) `budget` (see withinBudget). */
export function greedyCoresetWithin(rows: Matrix, budget: number, opts: GreedyCoresetOptions): Int32Array | null {
  const { count, starts, onProgress } = opts,
    { n, dim } = rows;
  const within = withinBudget(budget, count);
  if (dim < 4) {
    // the bounds read 4 axes unconditionally; nothing to gain in so few dimensions anyway
    const out = plainGreedyCoreset(rows, count, starts);
    onProgress?.(count, count);
    return out;
  }
  const threads = opts.threads ?? (n * count >= THREAD_MIN_WORK && os.availableParallelism() >= 2 && idleCores(50) >= 1.5 ? 2 : 1);
  const job = { rows, count, starts, geo: principalAxes(rows) };
  if (threads >= 2 && n >= 2 && count >= 2) {
    const run = twoThreads(job, { onProgress, within });
    if (run) {
      if (opts.stats) Object.assign(opts.stats, { threads: 2, distances: run.distances, work: run.work });
      return run.indices;
    }
  }
  const part = new Part(job, 0, 1, new Board(count, 1));
  const out = new Int32Array(count);
  const every = Math.max(1, Math.floor(count / 100));
  for (let t = 0; t < count; t++) {
    const c = part.tree.bestIndex;
    out[t] = c;
    part.phase1(t, c, part.tree.bestValue);
    part.phase2(t, c);
    if (!within(t, part.work)) return null;
    if (onProgress && ((t + 1) % every === 0 || t + 1 === count)) onProgress(t + 1, count);
  }
  if (opts.stats) Object.assign(opts.stats, { threads: 1, distances: [part.distances], work: [part.work] });
  return out;
}
