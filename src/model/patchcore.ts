// PatchCore as one object: fit from good images, score new ones, save and load.
import type { MemoryBank, PatchFeatures, PatchScores, RgbImage, ScoreMap, ScoringConfig } from '../types.js';
import type { Backbone } from '../backbone/backbone.js';
import type { Geometry } from '../image/preprocess.js';
import { Extractor, createExtractor, type ExtractorSetup, type StoredGrid } from './extract.js';
import { FeatureStore, selectBank } from '../memory/index.js';
import { leaveOneOutScores } from './threshold.js';
import { NearestNeighbours, buildNeighbourTable } from '../scoring/nn.js';
import { scorePatches, imageScore, usesNeighbourTable } from '../scoring/scores.js';
import { anomalyMap, resizeBilinear } from '../scoring/anomaly-map.js';
import { MODEL_FORMAT, type ModelConfig } from './config.js';
import { saveModel, loadModel, type StoredModel } from './store.js';
import { resolveBackbone } from '../backbone/index.js';
import { summarize } from '../metrics/summary.js';
import type { Device } from '../onnx/session.js';
import { UserError } from '../util/errors.js';
import { quantizeBackbone } from '../backbone/int8.js';

export type Progress = (stage: string, done: number, total: number) => void;

/** The extractor's setup (preprocessing, background, --dim, --precision int8, batch, warn) and the bank's. */
export interface FitOptions extends ExtractorSetup {
  ratio: number;
  seed: number;
  scoring: ScoringConfig;
  device?: Device;
  progress?: Progress;
}

export interface PredictResult {
  score: number;
  anomalous: boolean;
  threshold: number;
  /** Map at the backbone input (crop) size. */
  map: ScoreMap;
  /**
   * Map on the original image; outside the crop it holds the map minimum (nothing was seen there).
   * PatchCore.predict computes it lazily, on first read (an enumerable getter).
   */
  readonly mapOriginal: ScoreMap;
  geometry: Geometry;
  patches: PatchScores;
}

/** Bank + neighbour table + search index for one coreset draw. */
export interface FittedBank {
  bank: MemoryBank;
  nn: NearestNeighbours;
  /** Store row of each bank entry (known at fit time only). */
  origin?: Int32Array;
}

/**
 * Coreset bank for one seed. The N_b table (a bank-vs-bank search) is built only when the scoring
 * uses it (neighbourhood score, eq. 7 reweighting): for nearest and knn-mean it was ~5 % of fit.
 */
export async function bankFromStore(store: FeatureStore, ratio: number, seed: number, scoring: ScoringConfig, device?: Device, progress?: Progress): Promise<FittedBank> {
  const { bank, origin } = selectBank(store, { ratio, seed, onProgress: (d, t) => progress?.('coreset', d, t) });
  const fb: FittedBank = { bank, nn: await NearestNeighbours.create(bank, { device }), origin };
  await ensureNeighbourTable(fb, scoring);
  return fb;
}

/**
 * Build the N_b table if `cfg` uses it and the bank lacks it (or holds a smaller b): at fit, or
 * later when a model's scoring is changed to one that needs it. Deterministic (exact search).
 */
export async function ensureNeighbourTable(fb: FittedBank, cfg: ScoringConfig): Promise<void> {
  if (!usesNeighbourTable(cfg)) return;
  const b = Math.min(cfg.b, fb.bank.size);
  if (fb.bank.neighbours && (fb.bank.b ?? 0) >= b) return;
  fb.bank.b = b;
  fb.bank.neighbours = await buildNeighbourTable(fb.bank, b, fb.nn);
}

/** Image score and patch scores of one image's features against a fitted bank. */
export async function scoreFeatures(f: PatchFeatures, fb: FittedBank, cfg: ScoringConfig): Promise<{ score: number; patches: PatchScores }> {
  await ensureNeighbourTable(fb, cfg);
  const patches = await scorePatches(f.data, f.gridH, f.gridW, fb.bank, fb.nn, cfg);
  return { score: imageScore(patches, f.data, fb.bank, cfg), patches };
}

export class PatchCore {
  private constructor(
    readonly config: ModelConfig,
    readonly fitted: FittedBank,
    readonly extractor: Extractor,
  ) {}

  static async fit(files: string[], backbone: Backbone, o: FitOptions): Promise<PatchCore> {
    if (!(o.ratio > 0 && o.ratio <= 1)) throw new UserError(`--coreset must be in (0, 1], got ${o.ratio}`);
    const extractor = await createExtractor(files, backbone, o);
    const { preprocess, background } = extractor.opts;
    backbone = extractor.backbone;
    const store = new FeatureStore({ seed: o.seed });
    try {
      const grids = await extractor.storeFiles(files, store, (d, t) => o.progress?.('features', d, t));
      const fitted = await bankFromStore(store, o.ratio, o.seed, o.scoring, o.device, o.progress);
      const train = await leaveOneOutScores(store, grids, fitted, o.scoring.squared);
      const stats = summarize(train);
      const max = Math.max(...train);
      const config: ModelConfig = {
        format: MODEL_FORMAT,
        createdAt: new Date().toISOString(),
        backbone: { id: backbone.spec.id, hash: backbone.hash, layers: backbone.spec.layers, ...(backbone.int8 ? { int8: backbone.int8 } : {}) },
        preprocess,
        background,
        featureDim: o.featureDim,
        ...sharedInputSize(grids),
        mapStride: backbone.spec.strides[0],
        coreset: { ratio: o.ratio, seed: o.seed, trainPatches: store.count },
        scoring: o.scoring,
        bank: { file: '', sha256: '', size: fitted.bank.size, dim: fitted.bank.dim, b: fitted.bank.b ?? 0 },
        trainScores: { mean: stats.mean, std: stats.std, max },
        // a stand-in until eval's F1-optimal threshold or --threshold replaces it
        threshold: stats.mean + 3 * stats.std,
        thresholdSource: 'mean + 3 std of leave-one-image-out training scores',
      };
      return new PatchCore(config, fitted, extractor);
    } finally {
      store.close();
    }
  }

  /** A saved model with the backbone it was fitted with (found by its graph hash, or rebuilt). */
  static async open(dir: string, o: { device?: Device; weights?: string } = {}): Promise<PatchCore> {
    const stored = await loadModel(dir);
    const { config } = stored;
    const backbone = await resolveBackbone({ ...config.backbone, device: o.device, weights: o.weights, mean: config.preprocess.mean, std: config.preprocess.std });
    return PatchCore.fromStored(dir, stored, backbone, o.device);
  }

  static async load(dir: string, backbone: Backbone, device?: Device): Promise<PatchCore> {
    return PatchCore.fromStored(dir, await loadModel(dir), backbone, device);
  }

  private static async fromStored(dir: string, { config, bank }: StoredModel, backbone: Backbone, device?: Device): Promise<PatchCore> {
    if (backbone.hash !== config.backbone.hash)
      throw new UserError(`--model ${dir}: fitted with backbone ${config.backbone.id} sha256 ${config.backbone.hash.slice(0, 12)}…, but the available graph has ${backbone.hash.slice(0, 12)}…; refit the model`);
    if (config.backbone.int8) backbone = await quantizeBackbone(backbone, config.backbone.int8);
    const nn = await NearestNeighbours.create(bank, { device });
    const extractor = new Extractor(backbone, { preprocess: config.preprocess, background: config.background, featureDim: config.featureDim });
    return new PatchCore(config, { bank, nn }, extractor);
  }

  async save(dir: string): Promise<void> {
    const saved = await saveModel(dir, this.config, this.fitted.bank);
    Object.assign(this.config, saved);
  }

  setThreshold(value: number, source: string): void {
    this.config.threshold = value;
    this.config.thresholdSource = source;
  }

  async predict(img: RgbImage): Promise<PredictResult> {
    const e = await this.extractor.extract(img);
    return this.predictFeatures(e.features, e.geometry);
  }

  async predictFeatures(f: PatchFeatures, g: Geometry): Promise<PredictResult> {
    const { score, patches } = await scoreFeatures(f, this.fitted, this.config.scoring);
    const map = anomalyMap(patches, g.cropW, g.cropH, this.config.scoring.sigma, this.config.mapStride);
    let original: ScoreMap | undefined;
    return {
      score,
      anomalous: score >= this.config.threshold,
      threshold: this.config.threshold,
      map,
      // built on first read (heatmaps, the server), not for a score-only predict
      get mapOriginal() {
        return (original ??= toOriginal(map, g));
      },
      geometry: g,
      patches,
    };
  }
}

/** `{ inputSize }` when every training image gave the backbone the same input size. */
function sharedInputSize(grids: StoredGrid[]): Pick<ModelConfig, 'inputSize'> {
  const [g] = grids;
  return g && grids.every((x) => x.width === g.width && x.height === g.height) ? { inputSize: { width: g.width, height: g.height } } : {};
}

/** Place the crop-size map back onto the original image (undo crop, then resize). */
export function toOriginal(map: ScoreMap, g: Geometry): ScoreMap {
  const full = new Float32Array(g.resizedW * g.resizedH);
  let min = Infinity;
  for (let i = 0; i < map.data.length; i++) min = Math.min(min, map.data[i]);
  full.fill(min); // outside the crop nothing was seen: show the map's floor, not a false 0
  for (let y = 0; y < g.cropH; y++) full.set(map.data.subarray(y * g.cropW, (y + 1) * g.cropW), (y + g.cropY) * g.resizedW + g.cropX);
  return resizeBilinear({ width: g.resizedW, height: g.resizedH, data: full }, g.origW, g.origH);
}
