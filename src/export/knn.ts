// Nearest-neighbour nodes for the exported graph: ranking by the Gemm expansion (the tiled
// construction of src/scoring/knn-graph.ts, shared with the runtime search), distances exact.
// The bank is one initializer, tiles are Slices of it, and ‖b‖² is computed in the graph.
import type { GraphBuilder } from '../onnx/builder.js';
import { rankNodes, type BankTile } from '../scoring/knn-graph.js';

export interface KnnNodes {
  /** [n,k] int64 bank rows, ascending by the expansion's distance. */
  index: string;
}

/**
 * k nearest rows of `bank` ([M,D] tensor name) for each row of Q ([n,D]).
 * ‖q‖² is constant per row, so it never affects the ranking and is left out.
 */
export function knnNodes(g: GraphBuilder, Q: string, bank: string, M: number, k: number, tileRows = 8192): KnnNodes {
  // even split, every tile holding at least k rows so each TopK is valid
  const tiles = Math.max(1, Math.min(Math.ceil(M / tileRows), Math.floor(M / k)));
  const K = g.ints(g.fresh('k'), [k]);
  const norms = g.op('ReduceSumSquare', [bank], { axes: [1], keepdims: 0 }); // [M], folded at load
  const parts: BankTile[] = [];
  for (let t = 0; t < tiles; t++) {
    const [start, end] = [Math.floor((t * M) / tiles), Math.floor(((t + 1) * M) / tiles)];
    const slice = (x: string) => (tiles === 1 ? x : g.op('Slice', [x, g.ints(g.fresh('s'), [start]), g.ints(g.fresh('e'), [end]), g.ints(g.fresh('ax'), [0])]));
    parts.push({ rows: slice(bank), norms: slice(norms), start });
  }
  return { index: rankNodes(g, Q, parts, K).index };
}

/**
 * Direct Euclidean distances ‖q − b_m‖ for the `count` bank rows listed per query in `index`
 * ([n,count], int32 or int64): [n,count]. One column at a time, so only n×D floats are live,
 * and without the expansion's cancellation error (as nn.ts's `refine` does in float64).
 */
export function directDistances(g: GraphBuilder, Q: string, bank: string, index: string, count: number): string {
  const cols: string[] = [];
  for (let j = 0; j < count; j++) {
    const col = g.op('Gather', [index, g.init(g.fresh('col'), [], BigInt64Array.of(BigInt(j)))], { axis: 1 }); // [n]
    const rows = g.op('Gather', [bank, col], { axis: 0 }); // [n,D]
    cols.push(g.op('ReduceSumSquare', [g.op('Sub', [Q, rows])], { axes: [1], keepdims: 1 }));
  }
  return g.op('Sqrt', [count === 1 ? cols[0] : g.op('Concat', cols, { axis: 1 })]);
}
