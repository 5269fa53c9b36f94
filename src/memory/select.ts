// The memory stage's entry points for the model: coreset indices and the memory bank.
import type { MemoryBank } from '../types.js';
import { UserError, invalid } from '../util/errors.js';
import { pickStarts } from './coreset/plain.js';
import { greedyCoreset } from './coreset/fast.js';
import type { FeatureStore } from './feature-store.js';

export interface CoresetOptions {
  /** Fraction of patches kept, in (0, 1]. */
  ratio: number;
  /** Seed of the 10 starting points (the projection seed is the store's). */
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

/** Number of starting points of the approximate greedy coreset (official value). */
const STARTS = 10;

/** Indices of the approximate-greedy coreset of all patches in `store`, in selection order. */
export function selectCoreset(store: FeatureStore, opts: CoresetOptions): Int32Array {
  if (!(opts.ratio > 0 && opts.ratio <= 1)) throw invalid('ratio', 'a number in (0, 1]', opts.ratio);
  const n = store.count;
  if (n === 0) throw new UserError('no training features to build a memory bank from');
  const count = Math.max(1, Math.floor(n * opts.ratio));
  const starts = pickStarts(n, opts.seed, STARTS);
  return greedyCoreset(store.projected, n, store.projectDim, count, starts, opts.onProgress);
}

/** The memory bank: the original (unprojected) features of the coreset, and the store row of each entry. No neighbour table. */
export function selectBank(store: FeatureStore, opts: CoresetOptions): { bank: MemoryBank; origin: Int32Array } {
  const origin = selectCoreset(store, opts);
  return { bank: { dim: store.dim, size: origin.length, data: store.rows(origin) }, origin };
}

export function buildMemoryBank(store: FeatureStore, opts: CoresetOptions): MemoryBank {
  return selectBank(store, opts).bank;
}
