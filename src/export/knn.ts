// Nearest-neighbour nodes for a GraphBuilder: ranking by the Gemm expansion, distances exact.
// Same construction as src/scoring/nn.ts (which builds a whole standalone graph around it):
// per bank tile e = -2·Q·B_tᵀ + ‖b‖², TopK smallest, tiles merged by a second TopK. Each tile's
// score matrix is n×tile floats and is consumed by its TopK, so the n×M matrix is never formed
// when the bank has more than one tile.
import { GraphBuilder, f } from '../onnx/builder.js';

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
  const vals: string[] = [];
  const idxs: string[] = [];
  for (let t = 0; t < tiles; t++) {
    const [start, end] = [Math.floor((t * M) / tiles), Math.floor(((t + 1) * M) / tiles)];
    const slice = (x: string) => (tiles === 1 ? x : g.op('Slice', [x, g.ints(g.fresh('s'), [start]), g.ints(g.fresh('e'), [end]), g.ints(g.fresh('ax'), [0])]));
    const e = g.op('Gemm', [Q, slice(bank), slice(norms)], { alpha: f(-2), beta: f(1), transB: 1 });
    const [v, i] = g.node('TopK', [e, K], 2, { axis: 1, largest: 0, sorted: 1 });
    vals.push(v);
    idxs.push(start === 0 ? i : g.op('Add', [i, g.ints(g.fresh('offset'), [start])]));
  }
  if (vals.length === 1) return { index: idxs[0] };
  const [, pos] = g.node('TopK', [g.op('Concat', vals, { axis: 1 }), K], 2, { axis: 1, largest: 0, sorted: 1 });
  return { index: g.op('GatherElements', [g.op('Concat', idxs, { axis: 1 }), pos], { axis: 1 }) };
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
