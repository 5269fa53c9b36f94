// Pixel-level metrics over many anomaly maps, all from one radix sort of every pixel:
// pooled AUROC ("full"), AUROC over defect images only, AUPRO (MVTec AD) and F1-max.
import type { ScoreMap } from '../types.js';
import { invalid, UserError } from '../util/errors.js';
import { F1Best, ProArea, RocArea } from './curve.js';
import { labelRegions } from './regions.js';
import { descKey, keyToScore, radixSort, walkGroups } from './sort.js';
import { defined, undefinedMetric, type MetricValue } from './value.js';
import type { F1Max } from './image.js';

export interface PixelMetrics {
  /** All pixels of all images pooled. */
  auroc: MetricValue;
  /** Only pixels of images whose mask has a defect pixel. */
  aurocAnomalous: MetricValue;
  /** Normalised area under PRO up to FPR = `limit`. */
  aupro: MetricValue;
  f1: F1Max;
}

const POSITIVE = 1,
  IN_DEFECT_IMAGE = 2;

/**
 * Every pixel metric in one pass. masks[i] is row-major like maps[i].data; nonzero = defect.
 * Throws UserError when counts or sizes disagree or a map holds NaN.
 */
export function pixelMetrics(maps: ScoreMap[], masks: ArrayLike<number>[], limit = 0.3): PixelMetrics {
  if (!(limit > 0 && limit <= 1)) throw invalid('limit', 'a number in (0, 1]', limit);
  if (maps.length !== masks.length) throw new UserError(`metrics: ${maps.length} maps but ${masks.length} masks`);
  let total = 0;
  maps.forEach((m, i) => {
    if (m.data.length !== m.width * m.height) throw new UserError(`metrics: map ${i} has ${m.data.length} values, expected ${m.width}×${m.height}`);
    if (masks[i].length !== m.data.length) throw new UserError(`metrics: mask ${i} has ${masks[i].length} pixels but map ${i} is ${m.width}×${m.height}`);
    total += m.data.length;
  });

  // Per pixel: sort key, class flags and global region id; per region: 1 / size.
  const keys = new Uint32Array(total);
  const flags = new Uint8Array(total);
  const region = new Uint32Array(total);
  const invSize = [0];
  let offset = 0;
  maps.forEach((m, i) => {
    const bits = new Uint32Array(m.data.buffer, m.data.byteOffset, m.data.length);
    const r = labelRegions(masks[i], m.width, m.height);
    const defectImage = r.count > 0 ? IN_DEFECT_IMAGE : 0;
    const base = invSize.length - 1;
    for (let id = 1; id <= r.count; id++) invSize.push(1 / r.sizes[id]);
    for (let p = 0; p < bits.length; p++) {
      const b = bits[p];
      if ((b & 0x7fffffff) > 0x7f800000) throw new UserError(`metrics: map ${i} has NaN at pixel ${p}`);
      keys[offset + p] = descKey(b);
      const id = r.labels[p];
      flags[offset + p] = defectImage | (id > 0 ? POSITIVE : 0);
      if (id > 0) region[offset + p] = base + id;
    }
    offset += bits.length;
  });
  const regions = invSize.length - 1;
  const invSizes = Float64Array.from(invSize);

  let positives = 0,
    negatives = 0,
    negativesInDefect = 0;
  for (let p = 0; p < total; p++) {
    const f = flags[p];
    if (f & POSITIVE) positives++;
    else {
      negatives++;
      if (f & IN_DEFECT_IMAGE) negativesInDefect++;
    }
  }

  const sorted = radixSort(keys);
  const curves = new PixelCurves(negatives, regions, limit),
    f1 = new F1Best(positives);
  let tp = 0,
    fp = 0,
    fpDefect = 0,
    proSum = 0;
  walkGroups(
    sorted.order,
    sorted.keys,
    (p) => {
      const f = flags[p];
      if (f & POSITIVE) {
        tp++;
        proSum += invSizes[region[p]];
      } else {
        fp++;
        if (f & IN_DEFECT_IMAGE) fpDefect++;
      }
    },
    (first) => {
      curves.step(tp, fp, fpDefect, proSum);
      f1.step(tp, fp, first);
    },
  );

  const r = curves.result(total, positives, negativesInDefect);
  return { ...r, f1: r.noDefects ?? { value: f1.f1, threshold: keyToScore(sorted.keys[f1.at]) } };
}

/**
 * The pooled AUROC, the AUROC over defect images and AUPRO, fed once per threshold (descending)
 * with cumulative counts: defect pixels, good pixels, good pixels of defect images, Σ 1/region size.
 */
export class PixelCurves {
  private readonly all = new RocArea();
  private readonly defect = new RocArea();
  private readonly pro: ProArea;
  constructor(
    private readonly negatives: number,
    private readonly regions: number,
    limit: number,
  ) {
    this.pro = new ProArea(limit);
  }

  step(tp: number, fp: number, fpDefect: number, proSum: number): void {
    this.all.step(tp, fp);
    this.defect.step(tp, fpDefect);
    this.pro.step(fp / this.negatives, proSum / this.regions);
  }

  /** The three metrics, each undefined with its reason when a class is missing (noDefects: why F1 is). */
  result(total: number, positives: number, negativesInDefect: number) {
    const reason = total === 0 ? 'no pixels' : positives === 0 ? 'ground truth has no defect pixels' : undefined;
    const noDefects = reason === undefined ? undefined : undefinedMetric(reason);
    const missing = (neg: number, what: string) => noDefects ?? (neg === 0 ? undefinedMetric(`${what} have no good pixels`) : undefined);
    const all = missing(this.negatives, 'test images');
    return {
      auroc: all ?? defined(this.all.result()),
      aurocAnomalous: missing(negativesInDefect, 'defect images') ?? defined(this.defect.result()),
      aupro: all ?? defined(this.pro.result()),
      noDefects,
    };
  }
}

/** Pooled pixel AUROC. Prefer pixelMetrics() when several metrics are needed: each call sorts. */
export function pixelAuroc(maps: ScoreMap[], masks: ArrayLike<number>[]): MetricValue {
  return pixelMetrics(maps, masks).auroc;
}

/** Pixel AUROC over images with at least one defect pixel. */
export function pixelAurocAnomalous(maps: ScoreMap[], masks: ArrayLike<number>[]): MetricValue {
  return pixelMetrics(maps, masks).aurocAnomalous;
}

/** AUPRO up to FPR `limit`, divided by `limit` (MVTec AD recipe). */
export function aupro(maps: ScoreMap[], masks: ArrayLike<number>[], limit = 0.3): MetricValue {
  return pixelMetrics(maps, masks, limit).aupro;
}

/** Pixel F1-max; threshold is a map value (predict defect when value >= threshold). */
export function pixelF1Max(maps: ScoreMap[], masks: ArrayLike<number>[]): F1Max {
  return pixelMetrics(maps, masks).f1;
}
