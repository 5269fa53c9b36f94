// The memory stage's one entry point for the model: the coreset of a feature store, by the method
// asked for (`auto` chooses between the two algorithms, deterministically).
import { UserError, invalid } from '../util/errors.js';
import { checkNumber } from '../settings/define.js';
import { RATIO } from '../settings/coreset.js';
import { pickStarts } from './coreset/plain.js';
import { greedyCoresetWithin } from './coreset/exact/greedy.js';
import { chunkStage, planBlocks, type ComposableOptions } from './coreset/composable/blocks.js';
import { finalStage } from './coreset/composable/composable.js';
import { CANDIDATES_PER_CENTER, continueGreedy, searchNearest } from './coreset/composable/tail.js';
import type { FeatureStore } from './feature-store.js';
import type { Matrix, ProjectedRows } from './matrix.js';

/**
 * How the coreset is selected (the `method` option; `auto` resolves to one of the two algorithms):
 * - `exact`: PatchCore's greedy k-center, exactly (coreset/exact/: the accelerated version, same
 *   indices as the plain loop in coreset/plain.ts);
 * - `composable`: greedy on blocks of rows, then greedy on the union (coreset/composable/): a cost
 *   fixed by n and count, whatever the data; its last TAIL of the centers are the greedy continued
 *   over all rows (coreset/composable/tail.ts), which takes the rare rows the union missed;
 * - `auto` (default): exact, unless its work heads past what the composable one would cost
 *   (deterministic: counted in work units, not time), or the set has more than EXACT_MAX_ROWS
 *   rows; then composable.
 */
export type CoresetMethod = 'auto' | 'exact' | 'composable';

export interface CoresetOptions {
  /** Fraction of patches kept, in (0, 1]. */
  ratio: number;
  /** Seed of the 10 starting points (the projection seed is the store's). */
  seed: number;
  method?: CoresetMethod;
  onProgress?: (done: number, total: number) => void;
  /** For tests and benches: the composable algorithm's block size and union factor. */
  composable?: Pick<ComposableOptions, 'chunkRows' | 'union' | 'threads'>;
  /** For tests and benches: the share of the composable bank continued over all rows (default TAIL). */
  tail?: number;
}

/** Which of the two algorithms a selection ran (`auto` resolves to one of them). */
export type CoresetAlgorithm = Exclude<CoresetMethod, 'auto'>;

/** What was selected, and how (the note goes into model.json and the CLI's output). */
export interface CoresetSelection {
  /** Store rows of the coreset, in selection order. */
  indices: Int32Array;
  algorithm: CoresetAlgorithm;
  /** e.g. "exact greedy" or "composable: 74 blocks of 16384, union 24024 (exact greedy stopped at its budget)". */
  note: string;
}

/**
 * Share of a composable bank picked by the greedy continued over all rows (coreset/composable/tail.ts). Its
 * cost is one batched search of every row against the rest of the bank. On tire at v3 (482k rows,
 * 2,410 centers) it brought the coverage radius from 12 % above the exact greedy's to 0.2 % (10 %
 * of the bank: 1.2 %; half: equal), for about as much CPU again as the composable stages
 * (docs/RESULTS.md#coreset-quality).
 */
export const TAIL = 0.25;
/**
 * The tail's search costs about n·count/8 kernel distances (a Gemm): n·count/8 ≤ this many per row,
 * i.e. banks up to 16,000 centers (a 1,000-image set at v3 is ~10k); larger banks (2.4M rows at 1 %)
 * keep the composable cost alone. Not measured above 2.7k centers: ~2× the composable stages' CPU there.
 */
const TAIL_PAIRS_PER_ROW = 2000;

/**
 * The tail's greedy runs over CANDIDATES_PER_CENTER·tail rows (all rows when that is more) in plain
 * JS: at most this many row–center pairs per row of the set. On tire at v3 it is ~50; at v1's 10 %
 * of 131k rows it was ~3,300 and took the fit from 9 to 58 s, for a bank that already holds a tenth
 * of all rows. Above it the composable bank is kept as it is.
 */
const TAIL_GREEDY_PAIRS_PER_ROW = 250;

function tailSize(n: number, tail: number): number {
  const rows = Math.min(n, CANDIDATES_PER_CENTER * tail);
  return rows * tail <= TAIL_GREEDY_PAIRS_PER_ROW * n ? tail : 0;
}

/** Number of starting points of the approximate greedy coreset (official value). */
const STARTS = 10;
/**
 * Exact work units (coreset/exact/greedy.ts) allowed per row-to-center distance of the composable plan: a unit
 * costs ~2× a SIMD distance, so at this budget the exact run costs about what the composable one
 * would. Below FLOOR units (~1–2 s) the exact run always goes on; above CEILING (~10–15 s on an
 * idle machine) it never does, which bounds what a failed attempt wastes on hard data (there the
 * exact greedy prunes nothing and would cost ~9 units per row and center).
 */
const BUDGET_PER_PAIR = 0.5,
  FLOOR = 2e7,
  CEILING = 2.5e8;
/** …and at most this many units per row (~10–20 µs): with the composable run, under the backbone's ~31 µs per patch. */
const UNITS_PER_ROW = 300;
/**
 * Above this many rows `auto` goes straight to the composable coreset. Every set measured above it
 * passed the exact greedy's budget: real features (tire at 224, 320 and 384 px: 131k, 396k and 576k
 * rows; screw at 512 px: 1.19M) and the synthetic easy and hard sets of 150k–2.4M rows
 * (docs/RESULTS.md#fit-at-scale-and-memory). The attempt then cost a third to a half of the coreset stage (its setup
 * and first 1 % of centers: 3 s of 7 at 576k rows) for nothing. The exact greedy's bounds also
 * need ~250 bytes per row beside the projection.
 */
export const EXACT_MAX_ROWS = 100_000;

/**
 * Per store and bank size: the block stage (it depends on the store's seed only) and whether
 * `auto` already found the exact greedy over budget, so that eval's runs share both.
 */
const shared = new WeakMap<FeatureStore, Map<string, { union?: Int32Array; overBudget?: string }>>();

/** The coreset ratio's one check: fit calls it before extracting features, the stage again before selecting. */
export function checkRatio(ratio: number): void {
  checkNumber(RATIO, ratio);
}

/** The coreset of all patches in `store`: its rows in selection order, which algorithm ran, and a note of how. */
export async function selectCoreset(store: FeatureStore, opts: CoresetOptions): Promise<CoresetSelection> {
  checkRatio(opts.ratio);
  const method = opts.method ?? 'auto';
  if (!['auto', 'exact', 'composable'].includes(method)) throw invalid('method', "'auto', 'exact' or 'composable'", method);
  const n = store.count,
    dim = store.projectDim;
  if (n === 0) throw new UserError('no training features to build a memory bank from');
  const count = Math.max(1, Math.floor(n * opts.ratio));
  const co = opts.composable ?? {};
  const plan = planBlocks(n, count, co);
  const union = plan.reduce((s, b) => s + b.keep, 0);
  const pairs = plan.reduce((s, b) => s + (b.to - b.from) * (b.keep + STARTS), 0) + union * (count + STARTS);
  const key = `${n}/${count}/${co.chunkRows ?? ''}/${co.union ?? ''}`;
  const byStore = shared.get(store) ?? new Map<string, { union?: Int32Array; overBudget?: string }>();
  shared.set(store, byStore);
  const memo = byStore.get(key) ?? {};
  byStore.set(key, memo);
  if (method === 'auto' && n > EXACT_MAX_ROWS) memo.overBudget ??= ` (auto: more than ${EXACT_MAX_ROWS} rows)`;
  if (method === 'exact' || (method === 'auto' && !memo.overBudget)) {
    const budget = method === 'exact' ? Infinity : Math.max(FLOOR, Math.min(CEILING, UNITS_PER_ROW * n, BUDGET_PER_PAIR * pairs));
    const rows = { data: store.projected, n, dim };
    const exact = greedyCoresetWithin(rows, budget, { count, starts: pickStarts(n, opts.seed, STARTS), onProgress: opts.onProgress });
    if (exact) return { indices: exact, algorithm: 'exact', note: 'exact greedy' };
    memo.overBudget = ` (auto: the exact greedy passed its work budget, ${budget.toExponential(1)} units)`;
  }
  // progress: the chunk stage, then the final stage and the tail, each as one step of its share of the work
  // one block: already the greedy over all rows
  const tail = plan.length > 1 && count / 8 <= TAIL_PAIRS_PER_ROW ? tailSize(n, Math.round((opts.tail ?? TAIL) * count)) : 0;
  const tailPairs = tail > 0 ? (n * count) / 8 : 0; // the search runs ~8× the kernel's speed
  const finalPairs = union * (count + STARTS) + tailPairs,
    total = pairs + tailPairs;
  // spilled projections are read a block at a time
  const rows: Matrix<ProjectedRows> = { data: store.projectionSource, n, dim };
  let u = memo.union;
  if (!u) {
    u = chunkStage(rows, count, store.seed, { ...co, onProgress: (d, t) => opts.onProgress?.(Math.round((d / t) * (total - finalPairs)), total) }).union;
    memo.union = u;
  }
  opts.onProgress?.(total - finalPairs, total);
  const head = finalStage(rows, u, count, opts.seed);
  opts.onProgress?.(total - tailPairs, total);
  const indices = tail > 0 ? await continueGreedy(rows, head, tail, { nearest: searchNearest(rows) }) : head;
  opts.onProgress?.(total, total);
  const C = co.chunkRows ?? plan[0].to - plan[0].from;
  if (plan.length === 1)
    return {
      indices,
      algorithm: 'composable',
      note: `greedy on all rows with float32 distances (one block)${method === 'auto' ? (memo.overBudget ?? '') : ''}`,
    };
  const tailNote = tail > 0 ? `, last ${tail} centers by the greedy over all rows` : '';
  return {
    indices,
    algorithm: 'composable',
    note: `composable: ${plan.length} block(s) of ≤ ${C} rows, union ${u.length} (${(u.length / count).toFixed(1)}× the bank)${tailNote}${method === 'auto' ? (memo.overBudget ?? '') : ''}`,
  };
}
