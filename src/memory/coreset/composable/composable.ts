// Composable greedy k-center coreset (Malkomes et al., NeurIPS 2015: greedy on parts, then greedy
// on the union of their centers). For sets where the exact greedy is too slow: its cost is set by
// n and count (≈ 600 distances per row, see PAIRS_PER_ROW) no matter how the data look, because
// every step is the plain update (no bound to prune with), done by the SIMD kernel (simd.ts).
//
//   1. chunks: the rows in blocks of `chunkRows`; each block keeps its share of f·count centers,
//      by the official greedy (10 random starts, δ = their mean distance, argmax updates);
//   2. final: the same greedy picks `count` of the union.
// f (the union factor) is as large as pairBudget allows, up to the number of blocks m: f = m is
// Malkomes et al.'s scheme (every block keeps `count`), f = 1 keeps each block's share with no
// final stage. Cost ≈ f·count·(chunkRows + count) distances. Small sets are one block (the
// official greedy itself, float32 distances).
// Every row is then within r₁ (its block's coverage radius) of a union point, which is within r₂
// of a bank entry: the coverage radius is at most r₁ + r₂.
//
// blocks.ts is the first stage (the plan, the blocks and their two threads); here the second.
import { pickStarts } from '../plain.js';
import { MinUpdate } from './simd.js';
import { readRows, withFile } from '../../row-file.js';
import type { Matrix, ProjectedRows } from '../../matrix.js';
import { chunkStage, kernelGreedy, planBlocks, type ComposableOptions } from './blocks.js';

/** Stage 2: `count` of the union's rows by the same greedy (seeded by `seed`), in selection order. */
export function finalStage(rows: Pick<Matrix<ProjectedRows>, 'data' | 'dim'>, union: Int32Array, count: number, seed: number): Int32Array {
  if (union.length <= count) return union.slice();
  const { data: z, dim } = rows;
  const local = typeof z === 'string' ? withFile(z, (fd) => readRows(fd, dim, union)) : null;
  const picked = local ? Int32Array.from(union.keys()) : union;
  const pick = { keep: count, starts: pickStarts(union.length, seed) };
  return kernelGreedy(new MinUpdate(dim), { data: local ?? (z as Float32Array), rows: picked }, pick).map((p) => union[p]);
}

/** Both stages; the chunk stage seeded by `o.chunkSeed` (default `seed`), the final one by `seed`. */
export function composableCoreset(rows: Matrix<ProjectedRows>, count: number, seed: number, o: ComposableOptions & { chunkSeed?: number } = {}): Int32Array {
  const u = chunkStage(rows, count, o.chunkSeed ?? seed, o);
  if (o.stats) Object.assign(o.stats, { chunks: planBlocks(rows.n, count, o).length, union: u.union.length, threads: u.blocks.length, blocks: u.blocks });
  return finalStage(rows, u.union, count, seed);
}
