// Patch and image scores as graph nodes, mirroring src/scoring/scores.ts: the k-NN search, the
// distances to N_b(m*) (Gather of the N_b table), the rule's own nodes (scoring/rules/), --squared,
// and eq. 7 reweighting (softmax over the distances to N_b(m*)).
import type { MemoryBank, ScoringConfig } from '../types.js';
import type { GraphBuilder } from '../onnx/builder.js';
import { invalid } from '../util/errors.js';
import { directDistances, knnNodes } from './knn.js';
import { checkNeighbourTable, usesNeighbourTable } from '../scoring/scores.js';
import { scoringRule } from '../scoring/rules/index.js';

export interface ScoreNodes {
  /** [N·P] patch scores. */
  patch: string;
  /** [N] image scores. */
  image: string;
}

/** N_b table cut to the first b columns, as an int32 initializer [M,b]. */
function neighbourTable(g: GraphBuilder, bank: MemoryBank, b: number): string {
  checkNeighbourTable(bank, b);
  const t = new Int32Array(bank.size * b);
  for (let m = 0; m < bank.size; m++) t.set(bank.neighbours.subarray(m * bank.b, m * bank.b + b), m * b);
  return g.init('neighbours', [bank.size, b], t);
}

/**
 * Scores of Q ([N·P, D] patch features, P patches per image) against the bank.
 * `tileRows` bounds the Gemm scratch matrix (see knn.ts). `keep` ([N·P], 1 or 0: a foreground
 * mask) zeroes the background patches before the image score, as scoreFeatures does.
 */
export interface ScoreGraphOptions {
  /** Patches per image. */
  P: number;
  cfg: ScoringConfig;
  tileRows?: number;
  keep?: string | null;
}

export function scoreNodes(g: GraphBuilder, Q: string, bank: MemoryBank, { P, cfg, tileRows, keep }: ScoreGraphOptions): ScoreNodes {
  const B = g.init('bank', [bank.size, bank.dim], bank.data);
  const rule = scoringRule(cfg.kind);
  const k = rule.neighbours(cfg);
  if (!Number.isInteger(k) || k < 1 || k > bank.size) throw invalid('k', `an integer 1..${bank.size} (the bank size)`, k);
  const { index } = knnNodes(g, Q, B, bank.size, k, tileRows);
  const pow = (d: string) => (cfg.squared ? g.op('Mul', [d, d]) : d);
  const mean = (x: string) => g.op('ReduceMean', [x], { axes: [1], keepdims: 0 });

  // distances to N_b(m*), m* = nearest bank row: the neighbourhood score and eq. 7 both need them
  let nbDist: string | null = null;
  if (usesNeighbourTable(cfg)) {
    const table = neighbourTable(g, bank, cfg.b);
    const mStar = g.op('Gather', [index, g.init(g.fresh('first'), [], BigInt64Array.of(0n))], { axis: 1 }); // [n]
    nbDist = directDistances(g, Q, B, g.op('Gather', [table, mStar], { axis: 0 }), cfg.b); // [n,b]
  }
  const scored = rule.graph({ g, nearest: () => directDistances(g, Q, B, index, k), neighbourhood: nbDist, pow, mean }, cfg);
  const patch = keep ? g.op('Mul', [scored, keep]) : scored;

  const perImage = g.op('Reshape', [patch, g.ints(g.fresh('shape'), [-1, P])]); // [N,P]
  const sStar = g.op('ReduceMax', [perImage], { axes: [1], keepdims: 1 }); // [N,1]
  let image = sStar;
  if (cfg.reweight && cfg.b === 1) {
    image = g.op('Mul', [sStar, g.scalar(g.fresh('zero'), 0)]); // N_b(m*) = {m*}: w = 1 − 1 = 0
  } else if (cfg.reweight) {
    // w = 1 − softmax(d)[0] = Σ_{j≥1} softmax(d)[j]: the sum avoids cancellation when w ≪ 1.
    // ORT's Softmax subtracts the row max, as scores.ts does.
    const sm = g.op('Softmax', [nbDist!], { axis: 1 });
    const rest = g.op('Slice', [sm, g.ints(g.fresh('s'), [1]), g.ints(g.fresh('e'), [cfg.b]), g.ints(g.fresh('ax'), [1])]);
    const w = g.op('ReduceSum', [rest, g.ints(g.fresh('axes'), [1])], { keepdims: 0 }); // [n]
    const wImage = g.op('Reshape', [w, g.ints(g.fresh('shape'), [-1, P])]);
    const pStar = g.op('ArgMax', [perImage], { axis: 1, keepdims: 1, select_last_index: 0 }); // first max, as scores.ts
    image = g.op('Mul', [sStar, g.op('GatherElements', [wImage, pStar], { axis: 1 })]);
  }
  return { patch, image: g.op('Reshape', [image, g.ints(g.fresh('shape'), [-1])]) };
}
