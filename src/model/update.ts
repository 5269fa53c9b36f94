// Adding good images to a fitted model without refitting. The new images are extracted with the
// model's own extractor (its int8 calibration and background range), the greedy k-center is carried
// on over their patches until every one lies within the coverage radius fit recorded (memory/cover.ts),
// and the threshold is re-derived by the same leave-one-image-out rule over the stored sample plus
// the new images.
//
// Why this threshold rule: the model directory keeps the bank, not the training features, so the
// training images cannot be rescored. model.json keeps their leave-one-out scores instead (a few
// hundred numbers). The bank only grows, so for nearest and knn-mean scoring those stored scores
// can only have fallen: keeping them errs towards a higher threshold (fewer false alarms than
// promised, never more). Each new image is scored against the grown bank less its own new entries,
// which is the bank an update without it would have grown (up to the greedy's order).
import type { MemoryBank, PatchFeatures } from '../types.js';
import type { Extractor } from './extract.js';
import type { FeatureStore } from '../memory/index.js';
import { estimateRadius, extendCover, ortNearest, storeCoverageRadius } from '../memory/cover.js';
import { OrtProjector } from '../memory/projection.js';
import { PairwiseKnn } from '../scoring/pairwise-knn.js';
import { NearestNeighbours } from '../scoring/nn.js';
import { usesNeighbourTable, type BankView } from '../scoring/scores.js';
import { anomalyMap } from '../scoring/anomaly-map.js';
import { conformalThreshold, normalizationScale } from '../scoring/decision.js';
import { ensureNeighbourTable, scoreFeatures, type FittedBank, type Progress } from './bank.js';
import { DEFAULT_TARGET_FPR, type ModelConfig, type ThresholdInfo, type UpdateRecord } from './config.js';
import { loadImage } from '../image/load.js';
import { summarize } from '../metrics/summary.js';
import { relativeNames } from '../data/common-folder.js';
import type { Device } from '../onnx/session.js';
import { UserError, errorMessage } from '../util/errors.js';
import { TOOL } from '../util/version.js';
import { foregroundCells } from '../foreground/mask.js';

/** The coreset's coverage radius, measured at fit on the store's projections. */
export async function coverageRadius(store: FeatureStore, origin: Int32Array, device?: Device): Promise<number> {
  const knn = await PairwiseKnn.create(store.projectDim, device);
  try {
    return await storeCoverageRadius(store, origin, knn);
  } finally {
    await knn.release();
  }
}

export interface UpdateOptions {
  device?: Device;
  progress?: Progress;
  /** Report what would be added, build nothing. */
  dryRun?: boolean;
  /** Names recorded for the files (default: relative to their common folder). */
  names?: string[];
  /** Grow the bank but keep the threshold (the new images' leave-one-out scores are still stored). */
  keepThreshold?: boolean;
}

/** The model an update starts from: its config and bank, and its model_id (the new version's parent). */
export interface UpdateBase {
  config: ModelConfig;
  fitted: FittedBank;
  parent: string;
}

/** One new image: what it brought, how far it was from the bank, and how it scored. */
export interface UpdatedImage {
  file: string;
  /** Bank entries it adds. */
  entries: number;
  /** Largest distance of its patches to the old bank, in the coreset's projection (compare with the radius). */
  distance: number;
  /** Its image score against the old model (what predict said). */
  score: number;
  /** Its leave-one-out score against the new bank (absent in a dry run or when the threshold is kept). */
  leaveOneOut?: number;
}

export interface UpdateResult {
  images: UpdatedImage[];
  failed: { file: string; error: string }[];
  radius: number;
  radiusEstimated: boolean;
  /** Entries added in all. */
  added: number;
  /** The new version (absent in a dry run). */
  config?: ModelConfig;
  bank?: FittedBank;
}

export interface NewImage {
  file: string;
  features: PatchFeatures;
  geometry: import('../types.js').Geometry;
  /** The model's foreground cells of this image (scoring/foreground); null or absent: every cell scores. */
  keep?: Uint8Array | null;
}

/** Extract each file alone, so that one that fails is recorded and adds nothing. */
async function extractAll(extractor: Extractor, files: string[], names: string[], config: ModelConfig, progress?: Progress) {
  const ok: NewImage[] = [];
  const failed: { file: string; error: string }[] = [];
  for (const [i, f] of files.entries()) {
    try {
      const e = await extractor.extract(await loadImage(f));
      const want = config.inputSize;
      if (want && (e.geometry.cropW !== want.width || e.geometry.cropH !== want.height))
        throw new UserError(`its backbone input is ${e.geometry.cropW}x${e.geometry.cropH}, the training images' ${want.width}x${want.height}`);
      if (e.features.dim !== config.bank.dim) throw new UserError(`its features have ${e.features.dim} dimensions, the bank ${config.bank.dim}`);
      ok.push({ file: names[i], features: e.features, geometry: e.geometry, keep: foregroundCells(config.foreground, e.features, e.foreground) });
    } catch (e) {
      failed.push({ file: names[i], error: errorMessage(e).split('\n')[0] });
    }
    progress?.('features', i + 1, files.length);
  }
  return { ok, failed };
}

/** Rows `from` of `bank` less those listed, as a new bank (no neighbour table). */
function withoutRows(bank: MemoryBank, drop: Set<number>): MemoryBank {
  const D = bank.dim,
    keep = bank.size - drop.size,
    data = new Float32Array(keep * D);
  for (let r = 0, o = 0; r < bank.size; r++) if (!drop.has(r)) data.set(bank.data.subarray(r * D, (r + 1) * D), o++ * D);
  return { dim: D, size: keep, data };
}

/**
 * The bank less rows `drop`, searched through the whole bank's index: k + |drop| neighbours, the
 * dropped ones skipped (no new index per image; the distances are exact, as nn.search's).
 */
function withoutView(fb: FittedBank, drop: Set<number>): BankView {
  return {
    bank: fb.bank,
    async search(q, n, k) {
      const K = Math.min(fb.nn.maxK, k + drop.size);
      const r = await fb.nn.search(q, n, K);
      const index = new Int32Array(n * k),
        dist = new Float32Array(n * k);
      for (let p = 0; p < n; p++)
        for (let j = 0, t = 0; j < K && t < k; j++) {
          const m = r.index[p * K + j];
          if (drop.has(m)) continue;
          index[p * k + t] = m;
          dist[p * k + t++] = r.dist[p * K + j];
        }
      return { index, dist };
    },
    neighbourhood: () => {
      throw new Error('withoutView: no neighbour table (scorings that use one build the reduced bank)');
    },
  };
}

/** Image score and map maximum of one image against a bank, as the leave-one-out threshold scores it. */
async function scoreAgainst(img: NewImage, fb: FittedBank, config: ModelConfig, view?: BankView) {
  const r = await scoreFeatures(img.features, fb, config.scoring, { view, keep: img.keep });
  const map = anomalyMap(r.patches, img.geometry.cropW, img.geometry.cropH, config.scoring.sigma, config.mapStride);
  return { score: r.score, pixelMax: map.data.reduce((a, v) => Math.max(a, v), -Infinity) };
}

/**
 * Plan and (unless a dry run) build the update of a model by `files`. `parent` is the model's
 * model_id. The old model is not touched: the result holds a new config and bank.
 */
export async function updateModel(base: UpdateBase & { extractor: Extractor }, files: string[], o: UpdateOptions = {}): Promise<UpdateResult> {
  if (files.length === 0) throw new UserError('no images to add');
  const names = o.names ?? relativeNames(files);
  const { ok, failed } = await extractAll(base.extractor, files, names, base.config, o.progress);
  return updateWithFeatures(base, ok, failed, o);
}

/** `updateModel` on images already extracted with the model's extractor (benches replaying a line extract once). */
export async function updateWithFeatures(
  { config, fitted, parent }: UpdateBase,
  ok: NewImage[],
  failed: UpdateResult['failed'] = [],
  o: UpdateOptions = {},
): Promise<UpdateResult> {
  const files = [...ok, ...failed];
  const D = config.bank.dim,
    P = 128,
    old = fitted.bank;
  // the store projects with this matrix (memory/feature-store.ts): same dim, 128, the fit seed
  const projector = await OrtProjector.create(D, P, config.coreset.seed);
  const knn = await PairwiseKnn.create(P, o.device);
  try {
    const bankZ = await projector.project(old.data, old.size);
    const radiusEstimated = config.coreset.radius === undefined;
    const radius = config.coreset.radius ?? (await estimateRadius(bankZ, old.size, P, knn));
    const n = ok.reduce((s, x) => s + x.features.count, 0);
    const rows = new Float32Array(n * D),
      imageOf = new Int32Array(n);
    let at = 0;
    for (const [i, x] of ok.entries()) {
      rows.set(x.features.data.subarray(0, x.features.count * D), at * D);
      imageOf.fill(i, at, at + x.features.count);
      at += x.features.count;
    }
    const z = n > 0 ? await projector.project(rows, n) : new Float32Array(0);
    const fresh = { data: z, n, dim: P };
    const delta0 = n > 0 ? await ortNearest(knn)(fresh, { data: bankZ, n: old.size, dim: P }) : new Float32Array(0);
    const { added } = extendCover(fresh, radius, delta0);
    const images: UpdatedImage[] = ok.map((x) => ({ file: x.file, entries: 0, distance: 0, score: 0 }));
    for (let r = 0; r < n; r++) images[imageOf[r]].distance = Math.max(images[imageOf[r]].distance, delta0[r]);
    for (const r of added) images[imageOf[r]].entries++;
    for (const [i, x] of ok.entries()) images[i].score = (await scoreFeatures(x.features, fitted, config.scoring, { keep: x.keep })).score;
    const result: UpdateResult = { images, failed, radius, radiusEstimated, added: added.length };
    if (o.dryRun) return result;
    if (ok.length === 0)
      throw new UserError(`none of the ${files.length} image(s) could be added (${failed[0]?.file}: ${failed[0]?.error}); the model is unchanged`);

    const data = new Float32Array((old.size + added.length) * D);
    data.set(old.data.subarray(0, old.size * D));
    added.forEach((r, j) => data.set(rows.subarray(r * D, (r + 1) * D), (old.size + j) * D));
    const bank: MemoryBank = { dim: D, size: old.size + added.length, data };
    const fb: FittedBank = { bank, nn: await NearestNeighbours.create(bank, { device: o.device }) };
    await ensureNeighbourTable(fb, config.scoring);
    const built = await rederive(
      config,
      fb,
      ok,
      Int32Array.from(added, (r) => imageOf[r]),
      images,
      o,
    );
    const date = new Date().toISOString();
    const record: UpdateRecord = {
      date,
      added: images.map((x) => ({ file: x.file, entries: x.entries })),
      failed,
      radius,
      ...(radiusEstimated ? { radiusEstimated: true } : {}),
      threshold: built.note,
    };
    const next: ModelConfig = {
      ...config,
      createdAt: date,
      tool: TOOL,
      coreset: { ...config.coreset, trainPatches: config.coreset.trainPatches + n, radius },
      bank: { ...config.bank, size: bank.size, b: bank.b ?? 0 },
      ...built.fields,
      parent,
      update: record,
    };
    return { ...result, config: next, bank: fb };
  } finally {
    await knn.release();
    await projector.release();
  }
}

/**
 * The threshold over the stored leave-one-out sample plus the new images, each scored against the
 * new bank less its own new entries. Kept (and said why) when the model has no stored sample or its
 * threshold came from labels (calibrate, by hand): a conformal value would overwrite that choice.
 */
async function rederive(config: ModelConfig, fb: FittedBank, ok: NewImage[], entryImage: Int32Array, images: UpdatedImage[], o: UpdateOptions) {
  const loo = config.leaveOneOut;
  if (!loo) return { fields: {}, note: 'kept: the model predates stored leave-one-out scores (refit to store them)' };
  if (config.thresholdInfo.method !== 'conformal')
    return { fields: {}, note: `kept: it was set by ${config.thresholdInfo.method}, not by the leave-one-out rule` };
  const oldSize = fb.bank.size - entryImage.length;
  const image: number[] = [],
    pixel: number[] = [];
  for (const [i, x] of ok.entries()) {
    const own = new Set<number>();
    entryImage.forEach((img, j) => img === i && own.add(oldSize + j));
    let sub = fb,
      release = false,
      view: BankView | undefined;
    if (own.size > 0 && !usesNeighbourTable(config.scoring)) view = withoutView(fb, own);
    else if (own.size > 0) {
      // the N_b table must come from the bank without the image: build that bank
      const bank = withoutRows(fb.bank, own);
      sub = { bank, nn: await NearestNeighbours.create(bank, { device: o.device }) };
      release = true;
    }
    try {
      const s = await scoreAgainst(x, sub, config, view);
      image.push(s.score);
      pixel.push(s.pixelMax);
      images[i].leaveOneOut = s.score;
    } finally {
      if (release) await sub.nn.release();
    }
    o.progress?.('threshold', i + 1, ok.length);
  }
  const all = { files: [...loo.files, ...ok.map((x) => x.file)], image: [...loo.image, ...image], pixel: [...loo.pixel, ...pixel] };
  if (o.keepThreshold) return { fields: { leaveOneOut: all }, note: 'kept, as asked (the new leave-one-out scores are stored)' };
  const date = new Date().toISOString();
  const targetFpr = config.thresholdInfo.targetFpr ?? DEFAULT_TARGET_FPR;
  const t = conformalThreshold(all.image, targetFpr);
  const info = (c: typeof t): ThresholdInfo => ({
    method: 'conformal',
    n: c.n,
    date,
    targetFpr,
    promisedFpr: c.promisedFpr,
    ...(c.warning ? { warning: c.warning } : {}),
  });
  const keepPixel = config.pixelThresholdInfo && config.pixelThresholdInfo.method !== 'conformal';
  const p = conformalThreshold(all.pixel, targetFpr);
  const stats = summarize(all.image);
  return {
    fields: {
      threshold: t.value,
      thresholdInfo: info(t),
      ...(keepPixel ? {} : { pixelThreshold: p.value, pixelThresholdInfo: info(p) }),
      trainScores: { mean: stats.mean, std: stats.std, max: Math.max(...all.image), n: all.image.length },
      normalization: { scale: normalizationScale(all.image) },
      leaveOneOut: all,
    } satisfies Partial<ModelConfig>,
    note: `re-derived: conformal quantile at ${targetFpr} of ${all.image.length} leave-one-out scores (${loo.image.length} stored, ${image.length} new)`,
  };
}
