// Training scores for a verdict threshold from good images alone. Scoring a training image against
// a bank that holds its own patches gives near-zero distances, so every training image is scored
// leave-one-image-out, by the same scoring code predict uses (nearest, knn-mean, neighbourhood,
// eq. 7, squared), against the bank as it would be without that image:
//   - its own entries are skipped;
//   - each is replaced by its substitute, the nearest patch of another image (found once, on the
//     128-d projections the coreset used). A coreset drawn without the image would have covered
//     that spot with such a patch wherever other images reach it; removing the entries alone would
//     leave holes that no new part ever sees, and the threshold would sit too high.
// What stays approximate: the substitutes stand in for a coreset actually redrawn without the image.
import type { FeatureStore } from '../memory/index.js';
import type { MemoryBank, PatchScores, ScoringConfig } from '../types.js';
import type { SearchResult } from '../scoring/nn.js';
import { distance } from '../scoring/nn.js';
import { PairwiseKnn } from '../scoring/pairwise-knn.js';
import { anomalyMap } from '../scoring/anomaly-map.js';
import { imageScore, scorePatches, usesNeighbourTable, type BankView } from '../scoring/scores.js';
import { scoreFeatures, type FittedBank, type Progress } from './bank.js';
import type { StoredImage } from './extract.js';
import type { Device } from '../onnx/session.js';
import { Rng } from '../util/rng.js';

export interface TrainingScores {
  /** Image score of each training image, leave-one-image-out. */
  image: number[];
  /** Largest anomaly-map value of each (where a defect mask of a good image would start). */
  pixel: number[];
}

/** The bank plus one substitute per entry, and which image each row came from. */
interface ExtendedBank {
  bank: MemoryBank; // entries 0..M-1, then substitutes
  /** Image each row came from. */
  imageOf: Int32Array;
  /** For substitutes: the image whose entry they replace (−1 for entries). */
  ownerOf: Int32Array;
  /** Store row of each row. */
  storeRow: Int32Array;
  /** Extended-bank rows of the substitutes of each image's entries. */
  subsOf: Int32Array[];
  ownCount: Int32Array;
}

/** Queries and store rows per Gemm call: bounds the queries × rows scratch matrix (64 MB). */
const Q_TILE = 1024;
const ROW_TILE = 16384;
/** Candidates per query and tile: enough to get past the entry's own image's overlapping patches. */
const SUB_K = 16;

/**
 * For each query row, the nearest candidate row from a different image on the 128-d projections:
 * its position in `candidates` (−1 if none) and distance. Rows are store rows.
 */
async function nearestOtherImage(store: FeatureStore, imageOfRow: Int32Array, queries: Int32Array, queryImage: Int32Array, candidates: Int32Array, knn: PairwiseKnn) {
  const P = store.projectDim, z = store.projected;
  const gather = (rows: Int32Array) => {
    const out = new Float32Array(rows.length * P);
    for (const [i, r] of rows.entries()) out.set(z.subarray(r * P, (r + 1) * P), i * P);
    return out;
  };
  const index = new Int32Array(queries.length).fill(-1), dist = new Float32Array(queries.length).fill(Infinity);
  for (let q0 = 0; q0 < queries.length; q0 += Q_TILE) {
    const n = Math.min(Q_TILE, queries.length - q0);
    const q = gather(queries.subarray(q0, q0 + n));
    for (let r0 = 0; r0 < candidates.length; r0 += ROW_TILE) {
      const m = Math.min(ROW_TILE, candidates.length - r0);
      const k = Math.min(SUB_K, m);
      const r = await knn.search(q, n, gather(candidates.subarray(r0, r0 + m)), m, k);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < k; j++) {
          const c = r0 + r.index[i * k + j];
          if (imageOfRow[candidates[c]] === queryImage[q0 + i]) continue;
          if (r.dist[i * k + j] < dist[q0 + i]) (dist[q0 + i] = r.dist[i * k + j]), (index[q0 + i] = c);
          break;
        }
    }
  }
  return { index, dist };
}

/**
 * For each entry of a scored image, the store row of its substitute, or −1: the nearest patch of
 * another image, kept only where it lies in the removed entry's cell (closer to it than to every
 * remaining entry). A coreset drawn without the image would have had to cover such a patch anew;
 * one nearer to a remaining entry is covered from there already, and adding it as well would fill
 * the hole twice (the scores then lean low). Measured on held-out synthetic parts and on tire, see
 * docs/RESULTS.md: with no substitutes the threshold sat too high, with all of them too low.
 */
async function findSubstitutes(store: FeatureStore, imageOfRow: Int32Array, origin: Int32Array, scored: Uint8Array, knn: PairwiseKnn): Promise<Int32Array> {
  const M = origin.length;
  const sub = new Int32Array(M).fill(-1);
  const entries = Int32Array.from(origin.keys()).filter((e) => scored[imageOfRow[origin[e]]] === 1);
  const imgOf = (rows: Int32Array) => Int32Array.from(rows, (r) => imageOfRow[r]);
  const all = Int32Array.from({ length: store.count }, (_, i) => i);
  const queries = Int32Array.from(entries, (e) => origin[e]);
  const near = await nearestOtherImage(store, imageOfRow, queries, imgOf(queries), all, knn);
  const found = Int32Array.from(near.index.filter((i) => i >= 0));
  const cover = await nearestOtherImage(store, imageOfRow, found, imgOf(Int32Array.from(entries.filter((_, j) => near.index[j] >= 0), (e) => origin[e])), origin, knn);
  for (let j = 0, t = 0; j < entries.length; j++) {
    if (near.index[j] < 0) continue;
    if (cover.dist[t++] > near.dist[j]) sub[entries[j]] = near.index[j];
  }
  return sub;
}

/** The bank with substitutes for the entries of the `scored` images. */
async function extendBank(store: FeatureStore, fb: FittedBank, imageOfRow: Int32Array, images: number, scored: Uint8Array, knn: PairwiseKnn): Promise<ExtendedBank> {
  const { bank } = fb;
  const origin = fb.origin!;
  const sub = await findSubstitutes(store, imageOfRow, origin, scored, knn);
  const valid = Int32Array.from(sub.filter((s) => s >= 0));
  const data = new Float32Array((bank.size + valid.length) * bank.dim);
  data.set(bank.data);
  data.set(store.rows(valid), bank.size * bank.dim);
  const size = bank.size + valid.length;
  const imageOf = new Int32Array(size), ownerOf = new Int32Array(size).fill(-1), storeRow = new Int32Array(size);
  const subs: number[][] = Array.from({ length: images }, () => []);
  const ownCount = new Int32Array(images);
  for (let e = 0, s = bank.size; e < bank.size; e++) {
    const img = (imageOf[e] = imageOfRow[origin[e]]);
    storeRow[e] = origin[e];
    ownCount[img]++;
    if (sub[e] < 0) continue;
    imageOf[s] = imageOfRow[sub[e]];
    ownerOf[s] = img;
    storeRow[s] = sub[e];
    subs[img].push(s++);
  }
  return { bank: { dim: bank.dim, size, data }, imageOf, ownerOf, storeRow, subsOf: subs.map((x) => Int32Array.from(x)), ownCount };
}

/** The bank as it would be without image `img`: its entries skipped, their substitutes added. */
function leaveOutView(fb: FittedBank, ext: ExtendedBank, knn: PairwiseKnn, img: number, cfg: ScoringConfig): BankView {
  const { nn } = fb;
  const bank = ext.bank, D = bank.dim;
  const subs = ext.subsOf[img];
  const subRows = new Float32Array(subs.length * D);
  for (const [i, s] of subs.entries()) subRows.set(bank.data.subarray(s * D, (s + 1) * D), i * D);
  const tables = new Map<number, Int32Array>();

  // k nearest allowed rows: the real bank less this image's entries (k + own candidates suffice), merged with the substitutes
  const searchAllowed = async (q: Float32Array, n: number, k: number, withSubs = true): Promise<SearchResult> => {
    const K = Math.min(nn.maxK, k + ext.ownCount[img]);
    const a = await nn.search(q, n, K, false);
    const ks = withSubs ? Math.min(k, subs.length) : 0;
    const b = ks > 0 ? await knn.search(q, n, subRows, subs.length, ks) : null;
    const index = new Int32Array(n * k), dist = new Float32Array(n * k);
    const cand: { m: number; d: number }[] = [];
    for (let p = 0; p < n; p++) {
      cand.length = 0;
      for (let j = 0; j < K && cand.length < k; j++) {
        const m = a.index[p * K + j];
        if (ext.imageOf[m] !== img) cand.push({ m, d: distance(q, p, bank, m) });
      }
      for (let j = 0; j < ks; j++) {
        const m = subs[b!.index[p * ks + j]];
        cand.push({ m, d: distance(q, p, bank, m) });
      }
      cand.sort((x, y) => x.d - y.d || x.m - y.m);
      for (let t = 0; t < k; t++) {
        const c = cand[Math.min(t, cand.length - 1)]; // fewer allowed rows than k: repeat the last
        index[p * k + t] = c.m;
        dist[p * k + t] = c.d;
      }
    }
    return { index, dist };
  };

  return {
    bank,
    async search(q, n, k) {
      const r = await searchAllowed(q, n, k);
      if (usesNeighbourTable(cfg)) {
        // N_b of each nearest row among the allowed rows (the fit-time table may hold this image's entries)
        const ms = [...new Set(Array.from({ length: n }, (_, p) => r.index[p * k]))].filter((m) => !tables.has(m));
        if (ms.length === 0) return r;
        const rows = new Float32Array(ms.length * D);
        for (const [i, m] of ms.entries()) rows.set(bank.data.subarray(m * D, (m + 1) * D), i * D);
        const b = Math.min(cfg.b, fb.bank.size);
        const nb = await searchAllowed(rows, ms.length, b, false);
        ms.forEach((m, i) => {
          const row = Array.from(nb.index.subarray(i * b, (i + 1) * b)).filter((x) => x !== m);
          tables.set(m, Int32Array.from([m, ...row.slice(0, b - 1)]));
        });
      }
      return r;
    },
    neighbourhood: (m, b) => tables.get(m)!.subarray(0, b),
  };
}

export interface TrainingScoreOptions {
  device?: Device;
  progress?: Progress;
  /**
   * Images scored: a seeded random sample of this many (0 = all). A random sample keeps the
   * conformal promise (it is exchangeable with new parts); scoring all 200–300 images of the
   * shared sets cost 30–45 % of fit, the default sample about a third of that.
   */
  images?: number;
  seed?: number;
}

/** Default sample: 64 images, or more when the false-alarm rate asked needs them (3/A). */
export const calibrationImages = (targetFpr: number): number => Math.max(64, Math.ceil(3 / targetFpr));

/** Patches scored exactly per round (the rest wait until they might matter). */
const TOP = 16;
/** The map's Gaussian (σ = half a cell) and bilinear taps reach two cells: those must be exact around the map's peak. */
const AROUND = 2;
/** Cells whose scaled proxy is within this factor of the best exact score are scored exactly before the map's peak is sought. */
const BAND = 0.9;

/**
 * Score every training image against the bank as it would be without that image. The image score
 * is a maximum, so only patches that can reach it are scored exactly (by the same code as
 * predict). A proxy ranks the patches: the nearest-neighbour distance on the coreset's 128-d
 * projections, scaled by the largest exact/proxy ratio seen so far. Rounds of exact scoring run
 * until no unscored patch's scaled proxy exceeds the best exact score; then the cells around the
 * map's peak are made exact until the peak no longer moves. `leaveOneOutScoresPlain` scores every
 * patch exactly and is the reference the tests compare with.
 */
export async function leaveOneOutScores(store: FeatureStore, images: StoredImage[], fb: FittedBank, cfg: ScoringConfig, o: TrainingScoreOptions = {}): Promise<TrainingScores> {
  return scoreTraining(store, images, fb, cfg, o, true);
}

export async function leaveOneOutScoresPlain(store: FeatureStore, images: StoredImage[], fb: FittedBank, cfg: ScoringConfig, o: TrainingScoreOptions = {}): Promise<TrainingScores> {
  return scoreTraining(store, images, fb, cfg, o, false);
}

/** Which images to score: all, or a seeded random sample of `count`, in file order. */
function sample(n: number, count: number, seed: number): Uint8Array {
  const pick = new Uint8Array(n);
  if (count <= 0 || count >= n) return pick.fill(1);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (const i of order.subarray(0, count)) pick[i] = 1;
  return pick;
}

async function scoreTraining(store: FeatureStore, images: StoredImage[], fb: FittedBank, cfg: ScoringConfig, o: TrainingScoreOptions, pruned: boolean): Promise<TrainingScores> {
  const { device, progress } = o;
  const scored = sample(images.length, o.images ?? 0, o.seed ?? 0);
  const total = scored.reduce((a, b) => a + b, 0);
  const offsets: number[] = [];
  const imageOfRow = new Int32Array(store.count);
  let acc = 0;
  for (const [i, g] of images.entries()) {
    offsets.push(acc);
    imageOfRow.fill(i, acc, acc + g.gridH * g.gridW);
    acc += g.gridH * g.gridW;
  }
  const subKnn = await PairwiseKnn.create(store.projectDim, device);
  const knn = await PairwiseKnn.create(store.dim, device);
  try {
    const ext = await extendBank(store, fb, imageOfRow, images.length, scored, subKnn);
    // the nearest-distance proxy ranks nearest and knn-mean scores; the neighbourhood score and eq. 7
    // grow where the proxy does not (an isolated m*), so they score every patch
    const extZ = pruned && !usesNeighbourTable(cfg) ? projectedRows(store, ext) : null;
    const out: TrainingScores = { image: [], pixel: [] };
    for (const [i, g] of images.entries()) {
      if (!scored[i]) continue;
      const count = g.gridH * g.gridW;
      const rows = Int32Array.from({ length: count }, (_, j) => offsets[i] + j);
      const view = leaveOutView(fb, ext, knn, i, cfg);
      const { score, patches } = extZ
        ? await scorePruned(store, rows, g, view, ext, extZ, subKnn, i, fb, cfg)
        : await scoreFeatures({ gridH: g.gridH, gridW: g.gridW, dim: store.dim, count, data: store.rows(rows) }, fb, cfg, view);
      const map = anomalyMap(patches, g.geometry.cropW, g.geometry.cropH, cfg.sigma);
      let max = -Infinity;
      for (const v of map.data) max = Math.max(max, v);
      out.image.push(score);
      out.pixel.push(max);
      progress?.('threshold', out.image.length, total);
    }
    return out;
  } finally {
    await subKnn.release();
    await knn.release();
  }
}

/** 128-d projections of the extended bank's rows (entries, then substitutes), in store order. */
function projectedRows(store: FeatureStore, ext: ExtendedBank): Float32Array {
  const P = store.projectDim, z = store.projected;
  const out = new Float32Array(ext.bank.size * P);
  for (const [e, r] of ext.storeRow.entries()) out.set(z.subarray(r * P, (r + 1) * P), e * P);
  return out;
}

async function scorePruned(
  store: FeatureStore, rows: Int32Array, g: StoredImage, view: BankView, ext: ExtendedBank, extZ: Float32Array,
  subKnn: PairwiseKnn, img: number, fb: FittedBank, cfg: ScoringConfig,
): Promise<{ score: number; patches: PatchScores }> {
  const P = store.projectDim, n = rows.length, W = g.gridW, H = g.gridH;
  // proxy: the same score (nearest, or mean of k nearest) on the projections
  const allowed = [...Array(ext.bank.size).keys()].filter((e) => (e < fb.bank.size ? ext.imageOf[e] !== img : ext.ownerOf[e] === img));
  const bz = new Float32Array(allowed.length * P);
  for (const [j, e] of allowed.entries()) bz.set(extZ.subarray(e * P, (e + 1) * P), j * P);
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
    const ps = await scorePatches(store.rows(Int32Array.from(todo, (c) => rows[c])), 1, todo.length, view, cfg);
    todo.forEach((c, j) => {
      exact[c] = ps.scores[j];
      nearest[c] = ps.nearest[j];
      nearestDist[c] = ps.nearestDist[j];
      ratio = Math.max(ratio, ps.scores[j] / proxy[c]);
    });
    return true;
  };
  const estimate = () => Float32Array.from(exact, (v, c) => (Number.isNaN(v) ? ratio * proxy[c] : v));
  const byProxy = Array.from(proxy.keys()).sort((a, b) => proxy[b] - proxy[a]);

  // the image score: until no unscored patch could beat the best exact one
  for (let at = 0; at < n; ) {
    await scoreExactly(byProxy.slice(at, (at += TOP)));
    let best = -Infinity;
    for (const v of exact) if (v > best) best = v;
    const next = byProxy.slice(at).find((c) => Number.isNaN(exact[c]));
    if (next === undefined || ratio * proxy[next] <= best) break;
  }
  // the map's peak can sit on a cluster of near-maximal cells: those within BAND of the best are made exact first
  let best = -Infinity;
  for (const v of exact) if (v > best) best = v;
  await scoreExactly(byProxy.filter((c) => Number.isNaN(exact[c]) && ratio * proxy[c] >= BAND * best));
  // then until the cells the peak depends on are all exact
  for (;;) {
    const map = anomalyMap({ gridH: H, gridW: W, scores: estimate(), nearest, nearestDist }, g.geometry.cropW, g.geometry.cropH, cfg.sigma);
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
