// Training scores for a verdict threshold from good images alone. Scoring a training image against
// a bank that holds its own patches gives near-zero distances, so every training image is scored
// leave-one-image-out, by the same scoring code predict uses (nearest, knn-mean, neighbourhood,
// eq. 7, squared), against the bank as it would be without that image (leave-out-bank.ts): its own
// entries skipped, and substitutes where a coreset drawn without it would have had a center.
// What stays approximate: the substitutes stand in for a coreset actually redrawn without the image.
import type { FeatureStore } from '../memory/index.js';
import type { ScoringConfig } from '../types.js';
import { PairwiseKnn } from '../scoring/pairwise-knn.js';
import { anomalyMap } from '../scoring/anomaly-map.js';
import { scoreFeatures, type FittedBank, type Progress } from './bank.js';
import type { StoredImage } from './extract.js';
import { extendBank, leaveOutView } from './leave-out-bank.js';
import { prunable, scorePruned } from './leave-out-pruned.js';
import type { Device } from '../onnx/session.js';
import { Rng, permutation } from '../util/rng.js';
import { foregroundCells, type ForegroundConfig } from '../foreground/mask.js';

export interface TrainingScores {
  /** Image score of each training image, leave-one-image-out. */
  image: number[];
  /** Largest anomaly-map value of each (where a defect mask of a good image would start). */
  pixel: number[];
  /** Index (in the training files) of each scored image, in the order of the scores. */
  scored: number[];
  /** Whether only the cells that could reach the maxima were scored (leave-out-pruned.ts), not every cell. */
  pruned: boolean;
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
  /** The model's map geometry (ModelConfig.mapStride), so the pixel threshold sees predict's maps. */
  mapStride?: number;
  /** The model's foreground mask: background cells score zero here as in predict, so the threshold stays calibrated. */
  foreground?: ForegroundConfig;
}

/** The training images' features as fit stored them: the store and each image's rows in it. */
export interface TrainingSet {
  store: FeatureStore;
  images: StoredImage[];
}

/** Default sample: 40 images (the conformal rank is then the 2nd largest at A = 0.05), or 2/A when A needs more. */
export const calibrationImages = (targetFpr: number): number => Math.max(40, Math.ceil(2 / targetFpr));

/**
 * Score every training image against the bank as it would be without that image, with the same
 * scores as scoring every patch exactly, for a fraction of the work (leave-out-pruned.ts). The
 * image score is a maximum, so only patches that could reach it are scored exactly: each patch
 * gets an upper bound on its exact score, its score with true distances to the few allowed bank
 * rows nearest on the coreset's 128-d projections (the true nearest rows can only be nearer).
 * Patches are scored exactly in descending bound order until no unscored bound exceeds the best
 * exact score. For the map's maximum, unscored cells take their bound: that map lies above the
 * true one and equals it wherever every cell under a pixel is exact, so cells under its peak are
 * scored until the peak stands on exact cells. `leaveOneOutScoresPlain` scores every patch exactly
 * and is the reference the tests compare with (docs/ALGORITHM.md#the-verdict-threshold).
 */
export async function leaveOneOutScores(training: TrainingSet, fb: FittedBank, cfg: ScoringConfig, o: TrainingScoreOptions = {}): Promise<TrainingScores> {
  return scoreTraining(training, fb, cfg, { ...o, pruned: true });
}

export async function leaveOneOutScoresPlain(training: TrainingSet, fb: FittedBank, cfg: ScoringConfig, o: TrainingScoreOptions = {}): Promise<TrainingScores> {
  return scoreTraining(training, fb, cfg, { ...o, pruned: false });
}

/** Which images to score: all, or a seeded random sample of `count`, in file order. */
function sample(n: number, count: number, seed: number): Uint8Array {
  const pick = new Uint8Array(n);
  if (count <= 0 || count >= n) return pick.fill(1);
  for (const i of permutation(n, new Rng(seed)).subarray(0, count)) pick[i] = 1;
  return pick;
}

async function scoreTraining(
  { store, images }: TrainingSet,
  fb: FittedBank,
  cfg: ScoringConfig,
  o: TrainingScoreOptions & { pruned: boolean },
): Promise<TrainingScores> {
  const { pruned } = o;
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
    progress?.('threshold', 0, total); // the substitutes below take a moment before the first image
    const ext = await extendBank(store, fb, imageOfRow, images.length, scored, subKnn);
    // the projections' upper bounds hold for rules that declare it (nearest, knn-mean); the
    // neighbourhood score and eq. 7 grow where a bound does not follow (an isolated m*), so they score every patch
    const extZ = pruned && prunable(cfg) ? store.projectedRows(ext.storeRow) : null;
    const out: TrainingScores = { image: [], pixel: [], scored: [], pruned: extZ !== null };
    for (const [i, g] of images.entries()) {
      if (!scored[i]) continue;
      const count = g.gridH * g.gridW;
      const rows = Int32Array.from({ length: count }, (_, j) => offsets[i] + j);
      const view = leaveOutView(fb, ext, knn, i, cfg);
      const features = { gridH: g.gridH, gridW: g.gridW, dim: store.dim, count, data: store.rows(rows) };
      const keep = foregroundCells(o.foreground, features, g.foreground);
      // the pruned scoring found its map's maximum already; the plain one's map is made here
      const { score, pixelMax } = extZ
        ? await scorePruned({ store, rows, image: g, index: i, view, ext, extZ, subKnn, fb, cfg, mapStride: o.mapStride, keep, features: features.data })
        : await scoreFeatures(features, fb, cfg, { view, keep }).then((r) => ({
            score: r.score,
            pixelMax: anomalyMap(r.patches, g.geometry.cropW, g.geometry.cropH, cfg.sigma, o.mapStride).data.reduce((a, v) => Math.max(a, v), -Infinity),
          }));
      out.image.push(score);
      out.pixel.push(pixelMax);
      out.scored.push(i);
      progress?.('threshold', out.image.length, total);
    }
    return out;
  } finally {
    await subKnn.release();
    await knn.release();
  }
}
