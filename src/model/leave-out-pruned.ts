// Leave-one-image-out scoring of only the patches that can reach an image's maxima (see
// threshold.ts); the plain path there scores every patch and is the reference.
import type { FeatureStore } from '../memory/index.js';
import type { PatchScores, ScoringConfig } from '../types.js';
import type { PairwiseKnn } from '../scoring/pairwise-knn.js';
import { anomalyMap, axisSupport } from '../scoring/anomaly-map.js';
import { distance } from '../scoring/nn.js';
import { imageScore, scorePatches, type BankView } from '../scoring/scores.js';
import { scoringRule, type PatchNeighbours } from '../scoring/rules/index.js';
import type { FittedBank } from './bank.js';
import type { StoredImage } from './extract.js';
import type { ExtendedBank } from './leave-out-bank.js';

/** Candidates per cell from the projections whose true distances give its upper bound. */
const CANDIDATES = 2;
/** Exact distances may rank rows in another order than the search's float32 Gemm: the bound keeps this margin. */
const MARGIN = 1e-3;
/** Patches scored exactly in the first round, doubling each round (the rest wait until they might matter). */
const TOP = 16;
/** Map rounds of the peak search before every remaining candidate cell is scored at once. */
const PEAK_ROUNDS = 4;
/** Cells scored exactly per search. */
const EXACT_ROWS = 1024;

/** One training image to score leave-one-out, and the banks it is scored against. */
export interface PrunedImage {
  store: FeatureStore;
  /** The image's rows in the store. */
  rows: Int32Array;
  image: StoredImage;
  /** Its index among the training images (the one the bank leaves out). */
  index: number;
  view: BankView;
  ext: ExtendedBank;
  /** The extended bank's 128-d projections. */
  extZ: Float32Array;
  /** Search on those projections. */
  subKnn: PairwiseKnn;
  fb: FittedBank;
  cfg: ScoringConfig;
  /** The model's map geometry (ModelConfig.mapStride). */
  mapStride?: number;
  /** Foreground cells (1) of the image; background cells score zero. */
  keep?: Uint8Array | null;
  /** The image's full feature rows, when the caller has read them already. */
  features?: Float32Array;
}

/** Whether the pruned path may score `cfg`: its rule's bound holds, and eq. 7 does not reweight (it grows where a bound does not follow). */
export const prunable = (cfg: ScoringConfig): boolean => scoringRule(cfg.kind).leaveOutBound && !cfg.reweight;

/**
 * An upper bound on each cell's exact score: the rule's score against the few allowed rows
 * nearest on the 128-d projections, with true distances. The k nearest allowed rows can only be
 * nearer, so a rule whose score grows with its k nearest distances (`leaveOutBound`) scores at most this.
 */
async function upperBounds(o: PrunedImage, features: Float32Array, qz: Float32Array, n: number, P: number): Promise<Float64Array> {
  const { ext, extZ, subKnn, index: img, fb, cfg } = o;
  const rule = scoringRule(cfg.kind);
  const allowed = [...Array(ext.bank.size).keys()].filter((e) => (e < fb.bank.size ? ext.imageOf[e] !== img : ext.ownerOf[e] === img));
  const bz = new Float32Array(allowed.length * P);
  allowed.forEach((e, j) => bz.set(extZ.subarray(e * P, (e + 1) * P), j * P));
  const k = Math.min(rule.neighbours(cfg), allowed.length);
  const K = Math.min(Math.max(k, CANDIDATES), allowed.length);
  const near = (await subKnn.search(qz, n, bz, allowed.length, K)).index;
  const bound = new Float64Array(n),
    d = new Float64Array(K);
  const distancesOnly = (): never => {
    throw new Error(`leave-out bound: rule ${rule.kind} declares leaveOutBound, so its score may read distances only`);
  };
  // fewer allowed rows than the rule's k: the search repeats the last one, which only lowers the mean's bound
  const cand: PatchNeighbours = { k, dist: (j) => d[j], row: distancesOnly, distanceTo: distancesOnly, neighbourhood: distancesOnly };
  for (let c = 0; c < n; c++) {
    for (let j = 0; j < K; j++) d[j] = distance(features, c, ext.bank, allowed[near[c * K + j]]);
    d.sort();
    bound[c] = rule.patchScore(cand, cfg) * (1 + MARGIN);
  }
  return bound;
}

export async function scorePruned(o: PrunedImage): Promise<{ score: number; pixelMax: number }> {
  const { store, rows, image: g, view, cfg, mapStride, keep = null, features = store.rows(rows) } = o;
  const P = store.projectDim,
    n = rows.length,
    W = g.gridW,
    H = g.gridH,
    D = store.dim;
  const qz = store.projectedRows(rows);
  const bound = await upperBounds(o, features, qz, n, P);

  const exact = new Float64Array(n).fill(NaN);
  const nearest = new Int32Array(n),
    nearestDist = new Float32Array(n);
  // background cells (foreground mask) are known exactly: zero, as scoreFeatures makes them
  if (keep) for (let c = 0; c < n; c++) if (!keep[c]) exact[c] = bound[c] = 0;
  const gather = (cells: number[]) => {
    const q = new Float32Array(cells.length * D);
    cells.forEach((c, j) => q.set(features.subarray(c * D, (c + 1) * D), j * D));
    return q;
  };
  const scoreExactly = async (cells: Iterable<number>) => {
    const todo = [...new Set(cells)].filter((c) => Number.isNaN(exact[c]));
    // at most EXACT_ROWS cells a search: a whole 724 px image at once raised fit's peak memory
    for (let a = 0; a < todo.length; a += EXACT_ROWS) {
      const part = todo.slice(a, a + EXACT_ROWS);
      const ps = await scorePatches(gather(part), 1, part.length, view, cfg);
      part.forEach((c, j) => {
        exact[c] = ps.scores[j];
        nearest[c] = ps.nearest[j];
        nearestDist[c] = ps.nearestDist[j];
      });
    }
    return todo.length > 0;
  };
  const bestExact = () => {
    let best = -Infinity;
    for (const v of exact) if (v > best) best = v; // skips the NaN of unscored cells, which Math.max would not
    return best;
  };

  // the image score: until no unscored cell's bound could beat the best exact score,
  // in batches that double (TOP, 2·TOP, …): where bounds are loose that is a few searches, not n/TOP
  const byBound = Array.from(bound.keys()).sort((a, b) => bound[b] - bound[a]);
  for (let at = 0, step = TOP; at < n; step *= 2) {
    await scoreExactly(byBound.slice(at, (at += step)));
    if (at >= n || bound[byBound[at]] <= bestExact()) break;
  }

  // the map's peak: the map is a positive blend of cells, so the map of bounds (exact where known)
  // is above the true map everywhere and equal where every cell under a pixel is exact; its
  // maximum is the true maximum once the cells under it are exact
  const sx = axisSupport(W, g.geometry.cropW, cfg.sigma, mapStride),
    sy = axisSupport(H, g.geometry.cropH, cfg.sigma, mapStride);
  const under = (p: number, width: number) => {
    const x = p % width,
      y = Math.floor(p / width),
      out: number[] = [];
    for (let j = sy.lo[y]; j < sy.lo[y] + sy.band; j++) for (let i = sx.lo[x]; i < sx.lo[x] + sx.band; i++) out.push(j * W + i);
    return out;
  };
  // unscored cells as `fill` gives them: their bound (a map above the true one) or 0 (below it)
  const mapOf = (fill: (c: number) => number) =>
    anomalyMap(
      { gridH: H, gridW: W, scores: Float32Array.from(exact, (v, c) => (Number.isNaN(v) ? fill(c) : v)), nearest, nearestDist },
      g.geometry.cropW,
      g.geometry.cropH,
      cfg.sigma,
      mapStride,
    );
  let pixelMax: number;
  for (let round = 0; ; round++) {
    const m = mapOf((c) => bound[c]);
    let at = 0;
    for (let i = 1; i < m.data.length; i++) if (m.data[i] > m.data[at]) at = i;
    pixelMax = m.data[at]; // the true maximum once the loop ends: every cell under `at` is exact then
    if (round < PEAK_ROUNDS) {
      if (!(await scoreExactly(under(at, m.width)))) break;
      continue;
    }
    // the peak keeps moving (textures): every pixel the true peak could be at, i.e. whose bound
    // reaches the map of exact scores with unscored cells at zero (scores are ≥ 0), in one go;
    // pixels with the same first cells along both axes have the same cells under them
    const floor = mapOf(() => 0).data.reduce((a, v) => Math.max(a, v), 0) * (1 - 1e-6);
    const cells = new Set<number>(),
      seen = new Uint8Array(H * W);
    for (let i = 0; i < m.data.length; i++) {
      if (m.data[i] < floor) continue;
      const key = sy.lo[Math.floor(i / m.width)] * W + sx.lo[i % m.width];
      if (seen[key]) continue;
      seen[key] = 1;
      for (const c of under(i, m.width)) cells.add(c);
    }
    if (!(await scoreExactly(cells))) break;
  }

  // image score over the exactly scored cells (the max and eq. 7's p* are among them)
  const cells = [...exact.keys()].filter((c) => !Number.isNaN(exact[c]));
  const sub: PatchScores = {
    gridH: 1,
    gridW: cells.length,
    scores: Float32Array.from(cells, (c) => exact[c]),
    nearest: Int32Array.from(cells, (c) => nearest[c]),
    nearestDist: Float32Array.from(cells, (c) => nearestDist[c]),
  };
  return { score: imageScore(sub, gather(cells), view, cfg), pixelMax };
}
