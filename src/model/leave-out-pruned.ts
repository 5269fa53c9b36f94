// Leave-one-image-out scoring of only the patches that can reach an image's maximum (see
// threshold.ts); the plain path there scores every patch and is the reference.
import type { FeatureStore } from '../memory/index.js';
import type { PatchScores, ScoringConfig } from '../types.js';
import type { PairwiseKnn } from '../scoring/pairwise-knn.js';
import { anomalyMap } from '../scoring/anomaly-map.js';
import { imageScore, scorePatches, type BankView } from '../scoring/scores.js';
import type { FittedBank } from './bank.js';
import type { StoredImage } from './extract.js';
import type { ExtendedBank } from './leave-out-bank.js';

/** Patches scored exactly in the first round, doubling each round (the rest wait until they might matter). */
const TOP = 16;
/** The map's Gaussian (σ = half a cell) and bilinear taps reach two cells: those must be exact around the map's peak. */
const AROUND = 2;
/** Cells whose scaled proxy is within this factor of the best exact score are scored exactly before the map's peak is sought. */
const BAND = 0.9;
/** Map rounds of the peak search before the rest of the image is scored exactly (one map ≈ 20 ms at 512 px). */
const PEAK_ROUNDS = 4;
/** Cells scored exactly per search. */
const EXACT_ROWS = 1024;

export async function scorePruned(
  store: FeatureStore, rows: Int32Array, g: StoredImage, view: BankView, ext: ExtendedBank, extZ: Float32Array,
  subKnn: PairwiseKnn, img: number, fb: FittedBank, cfg: ScoringConfig, mapStride?: number,
): Promise<{ score: number; patches: PatchScores }> {
  const P = store.projectDim, n = rows.length, W = g.gridW, H = g.gridH;
  // proxy: the same score (nearest, or mean of k nearest) on the projections
  const allowed = [...Array(ext.bank.size).keys()].filter((e) => (e < fb.bank.size ? ext.imageOf[e] !== img : ext.ownerOf[e] === img));
  const bz = new Float32Array(allowed.length * P);
  allowed.forEach((e, j) => bz.set(extZ.subarray(e * P, (e + 1) * P), j * P));
  const qz = store.projected.subarray(rows[0] * P, (rows[0] + n) * P);
  const k = cfg.kind === 'knn-mean' ? Math.min(cfg.k, allowed.length) : 1;
  const d = (await subKnn.search(qz, n, bz, allowed.length, k)).dist;
  const proxy = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += cfg.squared ? d[c * k + j] ** 2 : d[c * k + j];
    proxy[c] = Math.max(sum / k, 1e-30);
  }

  const exact = new Float64Array(n).fill(NaN);
  const nearest = new Int32Array(n), nearestDist = new Float32Array(n);
  let ratio = 0;
  const scoreExactly = async (cells: number[]) => {
    const todo = [...new Set(cells)].filter((c) => Number.isNaN(exact[c]));
    if (!todo.length) return false;
    // at most EXACT_ROWS cells a search: a whole 724 px image at once raised fit's peak memory
    for (let a = 0; a < todo.length; a += EXACT_ROWS) {
      const part = todo.slice(a, a + EXACT_ROWS);
      const ps = await scorePatches(store.rows(Int32Array.from(part, (c) => rows[c])), 1, part.length, view, cfg);
      part.forEach((c, j) => {
        exact[c] = ps.scores[j];
        nearest[c] = ps.nearest[j];
        nearestDist[c] = ps.nearestDist[j];
        ratio = Math.max(ratio, ps.scores[j] / proxy[c]);
      });
    }
    return true;
  };
  const estimate = () => Float32Array.from(exact, (v, c) => (Number.isNaN(v) ? ratio * proxy[c] : v));
  const byProxy = Array.from(proxy.keys()).sort((a, b) => proxy[b] - proxy[a]);

  // the image score: until no unscored patch could beat the best exact one
  // in batches that double (TOP, 2·TOP, …): where pruning fails (textures) that is a few searches, not n/TOP
  for (let at = 0, step = TOP; at < n; step *= 2) {
    await scoreExactly(byProxy.slice(at, (at += step)));
    let best = -Infinity;
    for (const v of exact) if (v > best) best = v;
    const next = byProxy.slice(at).find((c) => Number.isNaN(exact[c]));
    if (next === undefined || ratio * proxy[next] <= best) break;
  }
  // the map's peak can sit on a cluster of near-maximal cells: those within BAND of the best are made exact first
  let best = -Infinity;
  for (const v of exact) if (v > best) best = v;
  await scoreExactly(byProxy.filter((c) => Number.isNaN(exact[c]) && ratio * proxy[c] >= BAND * best));
  // then until the cells the peak depends on are all exact; after PEAK_ROUNDS maps (on textures the
  // peak keeps moving, and each round costs a whole map) every remaining cell is scored instead
  for (let round = 0; ; round++) {
    if (round === PEAK_ROUNDS) {
      await scoreExactly([...exact.keys()]);
      break;
    }
    const map = anomalyMap({ gridH: H, gridW: W, scores: estimate(), nearest, nearestDist }, g.geometry.cropW, g.geometry.cropH, cfg.sigma, mapStride);
    let at = 0;
    for (let i = 1; i < map.data.length; i++) if (map.data[i] > map.data[at]) at = i;
    const cy = Math.floor(((Math.floor(at / map.width) + 0.5) * H) / map.height), cx = Math.floor((((at % map.width) + 0.5) * W) / map.width);
    const around: number[] = [];
    for (let y = Math.max(0, cy - AROUND); y <= Math.min(H - 1, cy + AROUND); y++)
      for (let x = Math.max(0, cx - AROUND); x <= Math.min(W - 1, cx + AROUND); x++) around.push(y * W + x);
    if (!(await scoreExactly(around))) break;
  }
  // unscored cells keep their scaled proxy, capped below every exact score, so they can move neither maximum
  let floor = Infinity;
  for (const v of exact) if (v < floor) floor = v;
  const scores = Float32Array.from(exact, (v, c) => (Number.isNaN(v) ? Math.min(ratio * proxy[c], floor) : v));
  const cells = [...exact.keys()].filter((c) => !Number.isNaN(exact[c]));
  const sub: PatchScores = {
    gridH: 1, gridW: cells.length, scores: Float32Array.from(cells, (c) => scores[c]),
    nearest: Int32Array.from(cells, (c) => nearest[c]), nearestDist: Float32Array.from(cells, (c) => nearestDist[c]),
  };
  // image score over the exactly scored cells (the max and eq. 7's p* are among them)
  const score = imageScore(sub, store.rows(Int32Array.from(cells, (c) => rows[c])), view, cfg);
  return { score, patches: { gridH: H, gridW: W, scores, nearest, nearestDist } };
}
