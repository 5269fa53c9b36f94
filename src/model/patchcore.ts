// PatchCore as one object: fit from good images, score new ones, save and load.
import type { Geometry, PatchFeatures, PredictResult, RgbImage, ScoreMap } from '../types.js';
import type { Backbone } from '../backbone/backbone.js';
import { Extractor, createExtractor, type StoredImage } from './extract.js';
import { FeatureStore, type CoresetMethod } from '../memory/index.js';
import { resolveFitOptions, type FitOverrides, type FitSettings } from '../settings/presets.js';
import { calibrationImages, leaveOneOutScores } from './threshold.js';
import { NearestNeighbours } from '../scoring/nn.js';
import { scoringRule } from '../scoring/rules/index.js';
import { anomalyMap, toOriginal } from '../scoring/anomaly-map.js';
import { conformalThreshold, normalizationScale, normalizeScore, quantileSorted } from '../scoring/decision.js';
import { bankFromStore, scoreFeatures, type FittedBank, type Progress } from './bank.js';
import { MODEL_FORMAT, type ModelConfig, type ThresholdInfo } from './config.js';
import { saveModel, saveConfig, saveVersion, loadModel, type StoredModel } from './store.js';
import { parseModelConfig } from './config-schema.js';
import { resolveBackbone } from '../backbone/index.js';
import { summarize } from '../metrics/summary.js';
import type { Device } from '../onnx/session.js';
import { UserError, invalid } from '../util/errors.js';
import { sha256 } from '../util/hash.js';
import { quantizeBackbone } from '../backbone/int8.js';
import { trainingFingerprint } from '../data/fingerprint.js';
import { relativeNames } from '../data/common-folder.js';
import { findSuspects } from './suspects.js';
import { coverageRadius, updateModel, updateWithFeatures, type NewImage, type UpdateOptions, type UpdateResult } from './update.js';
import { TOOL } from '../util/version.js';
import { fitForeground } from '../foreground/fit.js';
import { foregroundCells } from '../foreground/mask.js';

export type { Progress } from './bank.js';
export type { PredictResult } from '../types.js';

/**
 * What fit is given: a preset, the settings that override it (src/settings/presets.ts), and how to
 * run. `{ preset: 'v3' }` alone is the CLI's default fit; each setting given overrides the preset's.
 */
export interface FitOptions extends Omit<FitOverrides, 'backbone'> {
  /** The preset the settings not given come from: DEFAULT_PRESET, or v1 for a backbone other than the presets' own. */
  preset?: string;
  /** Images per backbone batch (default: 8 at 224 px, fewer for larger inputs). */
  batchSize?: number;
  warn?: (msg: string) => void;
  /** Training images scored for the threshold (a seeded random sample; 0 = all). Default: 40, or 2/targetFpr if more. */
  calibrationImages?: number;
  device?: Device;
  progress?: Progress;
  /** auto (default), exact or composable: see memory/select.ts. */
  coresetMethod?: CoresetMethod;
  /** Training images above the logistic bound at this α are listed as suspects (model/suspects.ts). Default 0.01. */
  suspectAlpha?: number;
  /** Score every training image, then fit again without the suspects (recorded in model.json). */
  excludeSuspects?: boolean;
}

/** Fit's options with every setting resolved. */
type Resolved = FitOptions & FitSettings;

/**
 * The preset's values where `o` gives none. Settings written out without a preset (preprocess
 * given, no preset named) keep fp32 unless they name a precision, as fit did before presets.
 */
function resolveFit(backbone: Backbone, o: FitOptions): Resolved {
  const precision = o.precision ?? (o.preset === undefined && o.preprocess !== undefined ? 'fp32' : undefined);
  return { ...o, ...resolveFitOptions(o.preset, { ...o, precision, backbone: backbone.spec.id }) };
}

export class PatchCore {
  private constructor(
    readonly config: ModelConfig,
    readonly fitted: FittedBank,
    readonly extractor: Extractor,
  ) {}

  static async fit(files: string[], backbone: Backbone, options: FitOptions): Promise<PatchCore> {
    const o = resolveFit(backbone, options);
    if (!o.excludeSuspects) return PatchCore.fitOnce(files, backbone, o);
    const first = await PatchCore.fitOnce(files, backbone, { ...o, calibrationImages: 0 });
    const found = first.config.suspects!;
    if (found.images.length === 0) return first;
    await first.fitted.nn.release();
    const drop = new Set(found.images.map((x) => x.file));
    const names = relativeNames(files);
    const model = await PatchCore.fitOnce(
      files.filter((_, i) => !drop.has(names[i])),
      backbone,
      { ...o, calibrationImages: 0 },
    );
    model.config.suspects = { ...found, excluded: true };
    return model;
  }

  private static async fitOnce(files: string[], backbone: Backbone, o: Resolved): Promise<PatchCore> {
    scoringRule(o.scoring.kind); // an unknown kind fails here, before any extraction
    // the threshold scores each training image against a bank built from the others
    if (files.length < 2) throw invalid('files', 'at least 2 training images', files);
    const targetFpr = o.targetFpr;
    const extractor = await createExtractor(files, backbone, o);
    const { preprocess, background } = extractor.opts;
    backbone = extractor.backbone;
    const store = new FeatureStore({ seed: o.seed });
    try {
      const images = await extractor.storeFiles(files, store, (d, t) => o.progress?.('features', d, t));
      await extractor.release(); // its activation memory is not needed again until predict
      const foreground = fitForeground(store, images, { mode: o.foreground, seed: o.seed, range: extractor.opts.foregroundRange });
      const fitted = await bankFromStore(store, {
        ratio: o.ratio,
        seed: o.seed,
        scoring: o.scoring,
        device: o.device,
        progress: o.progress,
        method: o.coresetMethod,
      });
      o.progress?.('radius', 0, 1);
      const radius = await coverageRadius(store, fitted.origin!, o.device);
      o.progress?.('radius', 1, 1);
      const train = await leaveOneOutScores({ store: store, images: images }, fitted, o.scoring, {
        device: o.device,
        progress: o.progress,
        seed: o.seed,
        images: o.calibrationImages ?? calibrationImages(targetFpr),
        mapStride: backbone.spec.strides[0],
        foreground,
      });
      const date = new Date().toISOString();
      const names = relativeNames(files);
      const image = conformalThreshold(train.image, targetFpr);
      const pixel = conformalThreshold(train.pixel, targetFpr);
      const info = (t: typeof image): ThresholdInfo => ({
        method: 'conformal',
        n: t.n,
        date,
        targetFpr,
        promisedFpr: t.promisedFpr,
        ...(t.warning ? { warning: t.warning } : {}),
      });
      if (image.warning) o.warn?.(`warning: ${image.warning}`);
      const stats = summarize(train.image);
      const config: ModelConfig = {
        format: MODEL_FORMAT,
        createdAt: date,
        tool: TOOL,
        trainingData: await trainingFingerprint(files),
        backbone: { id: backbone.spec.id, hash: backbone.hash, layers: backbone.spec.layers, ...(backbone.int8 ? { int8: backbone.int8 } : {}) },
        preprocess,
        background,
        featureDim: o.featureDim,
        ...sharedInputSize(images),
        mapStride: backbone.spec.strides[0],
        coreset: { ratio: o.ratio, seed: o.seed, trainPatches: store.count, method: fitted.coresetNote, radius },
        scoring: o.scoring,
        ...(foreground ? { foreground } : {}),
        bank: { file: '', sha256: '', size: fitted.bank.size, dim: fitted.bank.dim, b: fitted.bank.b ?? 0 },
        trainScores: {
          mean: stats.mean,
          std: stats.std,
          max: Math.max(...train.image),
          n: train.image.length,
          median: quantileSorted(Float64Array.from(train.image).sort(), 0.5),
        },
        threshold: image.value,
        thresholdInfo: info(image),
        pixelThreshold: pixel.value,
        pixelThresholdInfo: info(pixel),
        normalization: { scale: normalizationScale(train.image) },
        leaveOneOut: { files: train.scored.map((i) => names[i]), image: train.image, pixel: train.pixel },
        suspects: findSuspects(
          train.scored.map((i) => names[i]),
          train.image,
          files.length,
          o.suspectAlpha,
        ),
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
    const backbone = await resolveBackbone({
      ...config.backbone,
      device: o.device,
      weights: o.weights,
      mean: config.preprocess.mean,
      std: config.preprocess.std,
    });
    return PatchCore.fromStored(dir, stored, backbone, o.device);
  }

  static async load(dir: string, backbone: Backbone, device?: Device): Promise<PatchCore> {
    return PatchCore.fromStored(dir, await loadModel(dir), backbone, device);
  }

  private static async fromStored(dir: string, { config, bank }: StoredModel, backbone: Backbone, device?: Device): Promise<PatchCore> {
    if (backbone.hash !== config.backbone.hash)
      throw new UserError(
        `model ${dir}: fitted with backbone ${config.backbone.id} sha256 ${config.backbone.hash.slice(0, 12)}…, but the available graph has ${backbone.hash.slice(0, 12)}…; refit the model`,
      );
    if (config.backbone.int8) backbone = await quantizeBackbone(backbone, config.backbone.int8);
    const nn = await NearestNeighbours.create(bank, { device });
    const range = config.foreground?.mask === 'range' ? { foregroundRange: config.foreground.range } : {};
    const extractor = new Extractor(backbone, { preprocess: config.preprocess, background: config.background, featureDim: config.featureDim, ...range });
    return new PatchCore(config, { bank, nn }, extractor);
  }

  get threshold(): number {
    return this.config.threshold;
  }

  get pixelThreshold(): number | null {
    return this.config.pixelThreshold;
  }

  /** Short hash of model.json (which holds the bank's sha256 once saved): names the model in every result. */
  get modelId(): string {
    return storedId(this.config); // fit prints the id predict will report for the saved model
  }

  async save(dir: string): Promise<void> {
    const saved = await saveModel(dir, this.config, this.fitted.bank);
    Object.assign(this.config, saved);
  }

  /**
   * Add good images without refitting (model/update.ts). `model` is the new version (parent: this
   * one), absent in a dry run; this model is left as it was.
   */
  async update(files: string[], o: UpdateOptions = {}): Promise<UpdateResult & { model?: PatchCore }> {
    const r = await updateModel({ config: this.config, fitted: this.fitted, extractor: this.extractor, parent: storedId(this.config) }, files, o);
    return { ...r, model: r.config && r.bank ? new PatchCore(r.config, r.bank, this.extractor) : undefined };
  }

  /** `update` with images already extracted by this model's extractor. */
  async updateFeatures(images: NewImage[], o: UpdateOptions = {}): Promise<UpdateResult & { model?: PatchCore }> {
    const r = await updateWithFeatures({ config: this.config, fitted: this.fitted, parent: storedId(this.config) }, images, [], o);
    return { ...r, model: r.config && r.bank ? new PatchCore(r.config, r.bank, this.extractor) : undefined };
  }

  /** Save an updated version over its parent in `dir`, keeping the parent in `dir`/versions (model/store.ts). */
  async saveOverParent(dir: string): Promise<void> {
    if (!this.config.parent) throw new UserError('this model has no parent version to save over; use save()');
    const saved = await saveVersion(dir, { config: this.config, bank: this.fitted.bank, parent: this.config.parent }, storedId);
    Object.assign(this.config, saved);
  }

  /** Save model.json only (after a threshold change); the bank in `dir` must be this model's. */
  async saveConfig(dir: string): Promise<void> {
    await saveConfig(dir, this.config);
  }

  setThreshold(value: number, info: ThresholdInfo): void {
    if (!Number.isFinite(value)) throw invalid('threshold', 'a finite number', value);
    this.config.threshold = value;
    this.config.thresholdInfo = info;
  }

  setPixelThreshold(value: number, info: ThresholdInfo): void {
    if (!Number.isFinite(value)) throw invalid('pixelThreshold', 'a finite number', value);
    this.config.pixelThreshold = value;
    this.config.pixelThresholdInfo = info;
  }

  normalize(score: number): number {
    return normalizeScore(score, this.config.threshold, this.config.normalization.scale);
  }

  async predict(img: RgbImage): Promise<PredictResult> {
    const e = await this.extractor.extract(img);
    return this.predictFeatures(e.features, e.geometry, e.foreground);
  }

  /** A preprocessed [N,3,H,W] batch (the exported graph's input: no background removal, resize or crop here). */
  async predictTensor(t: import('../types.js').Tensor): Promise<PredictResult[]> {
    if (this.config.foreground?.mask === 'range')
      throw new UserError('a model with the RGB-range foreground mask needs the image itself, not a preprocessed tensor: send the encoded image');
    const [, , h, w] = t.dims;
    const g: Geometry = { origW: w, origH: h, resizedW: w, resizedH: h, cropX: 0, cropY: 0, cropW: w, cropH: h };
    const out: PredictResult[] = [];
    for (const f of await this.extractor.extractTensor(t)) out.push(await this.predictFeatures(f, g));
    return out;
  }

  /** `rangeCells`: the extractor's RGB-range cells, which a `--foreground range` model needs. */
  async predictFeatures(f: PatchFeatures, g: Geometry, rangeCells?: Uint8Array): Promise<PredictResult> {
    const keep = foregroundCells(this.config.foreground, f, rangeCells);
    const { score, patches } = await scoreFeatures(f, this.fitted, this.config.scoring, { keep });
    const map = anomalyMap(patches, g.cropW, g.cropH, this.config.scoring.sigma, this.config.mapStride);
    let original: ScoreMap | undefined;
    return {
      score,
      normalized: this.normalize(score),
      anomalous: score > this.config.threshold,
      threshold: this.config.threshold,
      modelId: this.modelId,
      map,
      // built on first read (heatmaps, masks, the server), not for a score-only predict
      get mapOriginal() {
        return (original ??= toOriginal(map, g));
      },
      geometry: g,
      patches,
    };
  }
}

/** `{ inputSize }` when every training image gave the backbone the same input size. */
function sharedInputSize(images: StoredImage[]): Pick<ModelConfig, 'inputSize'> {
  const [g] = images.map((i) => i.geometry);
  return g && images.every((i) => i.geometry.cropW === g.cropW && i.geometry.cropH === g.cropH) ? { inputSize: { width: g.cropW, height: g.cropH } } : {};
}

export function modelId(config: ModelConfig): string {
  return sha256(new TextEncoder().encode(JSON.stringify(config))).slice(0, 12);
}

/** The last config storedId saw: servers ask for the same model's id on every response. */
let lastStored = { text: '', id: '' };

/**
 * The model_id a config has once saved and loaded again (what predict reports): the check on load
 * orders some fields differently from a config built in memory, and the id hashes the text.
 */
export function storedId(config: ModelConfig): string {
  const text = JSON.stringify(config);
  // a model not saved yet has no bank file name: its in-memory id is all there is
  if (text !== lastStored.text) lastStored = { text, id: config.bank.file ? modelId(parseModelConfig(text, 'model.json')) : modelId(config) };
  return lastStored.id;
}

/** A threshold someone typed or chose by eye. */
export function manualThreshold(source: string): ThresholdInfo {
  return { method: 'manual', n: 0, date: new Date().toISOString(), source };
}
