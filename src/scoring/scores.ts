// Patch scores and the image score (formulas: docs/ALGORITHM.md#formulas-the-code-implements).
import type { MemoryBank, PatchScores, ScoringConfig } from '../types.js';
import { invalid, UserError } from '../util/errors.js';
import { distance, type NearestNeighbours, type SearchResult } from './nn.js';
import { scoringRule, type PatchNeighbours } from './rules/index.js';

/**
 * The bank as the scores see it: its rows, a k-NN search and the N_b table. Predict uses the
 * bank itself (`bankView`); the leave-one-image-out threshold uses the bank less one image's
 * entries, so the training scores come from exactly the code that scores new images.
 */
export interface BankView {
  bank: MemoryBank;
  search(queries: Float32Array, n: number, k: number): Promise<SearchResult>;
  /** N_b(m): m first, then its b − 1 nearest bank points. */
  neighbourhood(m: number, b: number): Int32Array;
}

export function bankView(bank: MemoryBank, nn: NearestNeighbours): BankView {
  return { bank, search: (q, n, k) => nn.search(q, n, k), neighbourhood: (m, b) => neighbourhood(bank, m, b) };
}

/** Rules that declare it (the neighbourhood score) and eq. 7 reweighting read the bank's N_b table. */
export const usesNeighbourTable = (cfg: ScoringConfig): boolean => scoringRule(cfg.kind).needsNeighbourTable || cfg.reweight;

/** The bank holds an N_b table with at least `b` columns (the neighbourhood score, eq. 7, their export). */
export function checkNeighbourTable(bank: MemoryBank, b: number): asserts bank is MemoryBank & { neighbours: Int32Array; b: number } {
  if (!bank.neighbours || !bank.b) throw new UserError('the memory bank has no neighbour table: refit the model to use the neighbourhood score or reweighting');
  if (!Number.isInteger(b) || b < 1 || b > bank.b) throw invalid('b', `an integer 1..${bank.b} (the model's neighbour table)`, b);
}

/** N_b(m): the first b entries of m's row in the fit-time table (m itself first). */
export function neighbourhood(bank: MemoryBank, m: number, b: number): Int32Array {
  checkNeighbourTable(bank, b);
  return bank.neighbours.subarray(m * bank.b, m * bank.b + b);
}

/** Scores of every patch of ONE image (features: gridH·gridW × dim). */
export async function scorePatches(features: Float32Array, gridH: number, gridW: number, view: BankView, cfg: ScoringConfig): Promise<PatchScores> {
  const { bank } = view;
  const n = gridH * gridW;
  if (features.length !== n * bank.dim) {
    throw new Error(`scorePatches: ${features.length} values for ${gridH}×${gridW} patches of dim ${bank.dim}`);
  }
  const rule = scoringRule(cfg.kind);
  const k = rule.neighbours(cfg);
  const { index, dist } = await view.search(features, n, k);
  const scores = new Float32Array(n);
  const nearest = new Int32Array(n);
  const nearestDist = new Float32Array(n);
  let p = 0;
  // one object for every patch, moved along by p: the rule's score reads its rows through it
  const at: PatchNeighbours = {
    k,
    dist: (j) => dist[p * k + j],
    row: (j) => index[p * k + j],
    distanceTo: (m) => distance(features, p, bank, m),
    neighbourhood: (m, b) => view.neighbourhood(m, b),
  };
  for (; p < n; p++) {
    nearest[p] = index[p * k];
    nearestDist[p] = dist[p * k];
    scores[p] = rule.patchScore(at, cfg);
  }
  return { gridH, gridW, scores, nearest, nearestDist };
}

/**
 * Image score: the max patch score s*; with cfg.reweight, PatchCore eq. 7:
 * w = 1 − exp(d(p*, m*)) / Σ_{m∈N_b(m*)} exp(d(p*, m)) on true distances, score w·s*.
 */
export function imageScore(ps: PatchScores, features: Float32Array, view: BankView, cfg: ScoringConfig): number {
  let pStar = 0;
  for (let p = 1; p < ps.scores.length; p++) if (ps.scores[p] > ps.scores[pStar]) pStar = p;
  const sStar = ps.scores[pStar];
  if (!cfg.reweight) return sStar;
  const nb = view.neighbourhood(ps.nearest[pStar], cfg.b);
  const d = Array.from(nb, (m) => distance(features, pStar, view.bank, m));
  // Max-subtracted softmax: exp of raw distances overflows for d ≳ 89 in float64.
  const top = Math.max(...d);
  let sum = 0;
  for (const x of d) sum += Math.exp(x - top);
  const w = 1 - Math.exp(d[0] - top) / sum; // d[0] = d(p*, m*): the table row starts with m*
  return w * sStar;
}
