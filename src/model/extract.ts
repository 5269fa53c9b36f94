// Image file -> patch features: background removal, preprocessing, backbone, aggregation.
// The one path used by fit, predict, eval, sweep and serve, so they cannot drift apart.
import type { PatchFeatures, PreprocessConfig, RgbImage } from '../types.js';
import type { Backbone } from '../backbone/backbone.js';
import { removeBackground, resolveAutoRange, type BackgroundConfig } from '../image/background.js';
import { cropWarning, preprocess, stack, type Geometry } from '../image/preprocess.js';
import { loadImage } from '../image/load.js';
import { GraphAggregator } from '../features/aggregate-graph.js';
import type { FeatureStore } from '../memory/index.js';
import { backboneFor, type Precision } from '../backbone/int8.js';
import { DEFAULT_BACKGROUND, type BgRange } from '../image/background.js';
import { rangeRaw, type ForegroundMode } from '../foreground/mask.js';

export interface Extracted {
  features: PatchFeatures;
  geometry: Geometry;
  /** The image as the backbone saw it (after background removal), uncropped. */
  image: RgbImage;
  /** The RGB-range foreground on the patch grid, before cleaning (when the options set a foreground range). */
  foreground?: Uint8Array;
}

/** Where one image's rows sit in a feature store (rows are appended image by image). */
export interface StoredImage {
  gridH: number;
  gridW: number;
  geometry: Geometry;
  /** Its RGB-range foreground cells, as Extracted's. */
  foreground?: Uint8Array;
}

export interface ExtractorOptions {
  preprocess: PreprocessConfig;
  background: BackgroundConfig | null;
  featureDim: number;
  /** `--foreground range`: compute each image's RGB-range cells with this background range. */
  foregroundRange?: BgRange;
  batchSize?: number;
  warn?: (msg: string) => void;
}

export class Extractor {
  private warned = false;
  private readonly aggregator: GraphAggregator;
  constructor(
    readonly backbone: Backbone,
    readonly opts: ExtractorOptions,
  ) {
    this.aggregator = new GraphAggregator(opts.featureDim);
  }

  /** Free the backbone's and the aggregation's sessions until the next extraction (fit: before the coreset). */
  async release(): Promise<void> {
    await this.backbone.release?.();
    await this.aggregator.release();
  }

  /** Background removal then resize/crop/normalise. */
  async prepare(img: RgbImage): Promise<{ image: RgbImage; tensor: import('../types.js').Tensor; geometry: Geometry }> {
    const image = this.opts.background ? (await removeBackground(img, this.opts.background)).image : img;
    const { tensor, geometry } = await preprocess(image, this.opts.preprocess);
    const w = cropWarning(geometry);
    if (w && !this.warned) {
      this.warned = true;
      this.opts.warn?.(w);
    }
    return { image, tensor, geometry };
  }

  async extract(img: RgbImage): Promise<Extracted> {
    const [out] = await this.extractBatch([img]);
    return out;
  }

  /** Same-sized images run as one backbone batch; mixed sizes run one by one. */
  async extractBatch(imgs: RgbImage[]): Promise<Extracted[]> {
    const prepared = await Promise.all(imgs.map((i) => this.prepare(i)));
    const sameSize = prepared.every((p) => p.tensor.dims[2] === prepared[0].tensor.dims[2] && p.tensor.dims[3] === prepared[0].tensor.dims[3]);
    const maps = sameSize
      ? await this.backbone.run(stack(prepared.map((p) => p.tensor)))
      : (await Promise.all(prepared.map((p) => this.backbone.run(p.tensor)))).flat();
    const out: Extracted[] = [];
    const range = this.opts.foregroundRange;
    for (const [i, p] of prepared.entries()) {
      const features = await this.aggregator.aggregate(maps[i]);
      const foreground = range ? rangeRaw(p.image, p.geometry, features.gridH, features.gridW, range) : undefined;
      out.push({ features, geometry: p.geometry, image: p.image, ...(foreground ? { foreground } : {}) });
    }
    return out;
  }

  /** A batch already preprocessed, [N,3,H,W] as the exported graph takes it -> each image's features. */
  async extractTensor(t: import('../types.js').Tensor): Promise<PatchFeatures[]> {
    const out: PatchFeatures[] = [];
    for (const m of await this.backbone.run(t)) out.push(await this.aggregator.aggregate(m));
    return out;
  }

  /** Stream the features of `files` into a feature store; returns each image's patch grid and geometry. */
  async storeFiles(files: string[], store: FeatureStore, onProgress?: (done: number, total: number) => void): Promise<StoredImage[]> {
    const images: StoredImage[] = [];
    for await (const e of this.extractFiles(files, onProgress)) {
      if (images.length === 0) store.reserve(files.length * e.features.count); // exact when all images have one size
      await store.append(e.features, { overlap: true });
      images.push({ gridH: e.features.gridH, gridW: e.features.gridW, geometry: e.geometry, ...(e.foreground ? { foreground: e.foreground } : {}) });
    }
    await store.flush();
    return images;
  }

  /**
   * Extract features of many files in batches, decoding the next batch while the backbone
   * runs the current one (a two-stage pipeline).
   */
  async *extractFiles(files: string[], onProgress?: (done: number, total: number) => void): AsyncGenerator<Extracted & { file: string }> {
    const bs = Math.max(1, this.opts.batchSize ?? defaultBatch(this.opts.preprocess));
    const load = (start: number) => Promise.all(files.slice(start, start + bs).map((f) => loadImage(f)));
    let next = files.length ? load(0) : null;
    for (let start = 0; start < files.length; start += bs) {
      const imgs = await next!;
      next = start + bs < files.length ? load(start + bs) : null;
      next?.catch(() => undefined); // surfaced when awaited
      const out = await this.extractBatch(imgs);
      for (let i = 0; i < out.length; i++) yield { ...out[i], file: files[start + i] };
      onProgress?.(Math.min(start + bs, files.length), files.length);
    }
  }
}

/**
 * Images per backbone batch unless set: 8 at 224 × 224, fewer for larger inputs (the same pixels
 * per batch). ONNX Runtime's activation memory grows with a batch's pixels (inception_v3 at
 * 512 × 512: 1.15 GB peak with 8 images, 0.52 GB with 2) and bigger batches are not faster on a CPU.
 */
export function defaultBatch(p: Pick<PreprocessConfig, 'resize' | 'crop'>): number {
  const side = p.crop === 'none' ? p.resize : p.crop;
  return Math.max(1, Math.min(8, Math.floor((8 * 224 * 224) / (side * side))));
}

/** What fit, eval and sweep choose; the backbone supplies the normalisation. */
export interface ExtractorSetup extends Omit<ExtractorOptions, 'preprocess' | 'foregroundRange'> {
  preprocess: Omit<PreprocessConfig, 'mean' | 'std'>;
  /** Foreground mask of the scores (default off); `range` makes the extractor compute RGB-range cells. */
  foreground?: ForegroundMode;
  /** int8: calibrate and run a quantized backbone (default fp32). */
  precision?: Precision;
}

/**
 * The extractor for fitting on `files`: the backbone's normalisation, `--bg-range auto` resolved
 * from `files`, and for int8 the backbone calibrated on some of them (prepared as extraction will).
 */
export async function createExtractor(files: string[], backbone: Backbone, o: ExtractorSetup): Promise<Extractor> {
  const background = await resolveAutoRange(files, o.background);
  const opts: ExtractorOptions = {
    preprocess: { ...o.preprocess, mean: backbone.spec.mean, std: backbone.spec.std },
    background,
    featureDim: o.featureDim,
    // the range mask uses the background's range when removal is on, else the report's 150–255
    ...(o.foreground === 'range' ? { foregroundRange: (background?.range ?? DEFAULT_BACKGROUND.range) as BgRange } : {}),
    batchSize: o.batchSize,
    warn: o.warn,
  };
  // calibration prepares with a float extractor that stays silent: the crop warning comes once, from extraction
  const float = new Extractor(backbone, { ...opts, warn: undefined });
  return new Extractor(await backboneFor(o.precision ?? 'fp32', backbone, files, async (f) => (await float.prepare(await loadImage(f))).tensor), opts);
}
