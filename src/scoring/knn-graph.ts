// The k-NN ranking as ONNX nodes, shared by the runtime search (nn.ts) and the exported graph
// (export/knn.ts): per bank tile e = -2·Q·B_tᵀ + ‖b‖² (one Gemm; ‖q‖² is constant per row and
// never changes the ranking), TopK smallest, tiles merged by a second TopK over the n × (tiles·k)
// candidates. Each tile's n×tile matrix is consumed by its TopK, so n×M is never formed.
// Callers supply the tiles (initializers or slices, norms precomputed or in-graph) so each keeps
// its own numerics.
import { type GraphBuilder, f } from '../onnx/builder.js';

/** k nearest bank rows per query, n × k, ascending distance. */
export interface SearchResult {
  index: Int32Array;
  dist: Float32Array; // Euclidean distances
}

export interface BankTile {
  /** [rows, D] bank rows of this tile. */
  rows: string;
  /** Their squared norms, broadcastable to [n, rows]. */
  norms: string;
  /** Index of the tile's first row in the bank. */
  start: number;
}

/** [n,k] smallest expansion values (‖q‖² left out) and their int64 bank rows, ascending. */
export function rankNodes(g: GraphBuilder, Q: string, tiles: BankTile[], K: string): { values: string; index: string } {
  const vals: string[] = [];
  const idxs: string[] = [];
  for (const t of tiles) {
    const e = g.op('Gemm', [Q, t.rows, t.norms], { alpha: f(-2), beta: f(1), transB: 1 });
    const [v, i] = g.node('TopK', [e, K], 2, { axis: 1, largest: 0, sorted: 1 });
    vals.push(v);
    idxs.push(t.start === 0 ? i : g.op('Add', [i, g.ints(g.fresh('offset'), [t.start])]));
  }
  if (vals.length === 1) return { values: vals[0], index: idxs[0] };
  const [values, pos] = g.node('TopK', [g.op('Concat', vals, { axis: 1 }), K], 2, { axis: 1, largest: 0, sorted: 1 });
  return { values, index: g.op('GatherElements', [g.op('Concat', idxs, { axis: 1 }), pos], { axis: 1 }) };
}

/** A ranking graph's outputs for a run of query rows: `index` (int64) and `dist`, k per row. */
type RankedRun = Record<string, { data: unknown }>;

/**
 * n query rows ranked in runs of at most `step` rows (bounded Gemm scratch), the k results of each
 * run joined in row order. `run(start, rows)` runs the graph on rows start..start+rows. n = 0 runs
 * nothing: ORT's Gemm divides by the row count.
 */
export async function rankInRuns(
  n: number,
  k: number,
  step: number,
  run: (start: number, rows: number) => Promise<RankedRun>,
): Promise<{ index: Int32Array; dist: Float32Array }> {
  const index = new Int32Array(n * k),
    dist = new Float32Array(n * k);
  for (let start = 0; start < n; start += step) {
    const rows = Math.min(step, n - start);
    const out = await run(start, rows);
    const idx = out.index.data as BigInt64Array;
    for (let i = 0; i < rows * k; i++) index[start * k + i] = Number(idx[i]);
    dist.set(out.dist.data as Float32Array, start * k);
  }
  return { index, dist };
}
