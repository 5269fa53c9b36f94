// model.json: everything needed to reproduce a fitted model's predictions.
import type { PreprocessConfig, ScoringConfig } from '../types.js';
import type { Int8Calibration } from '../onnx/quantize.js';
import type { BackgroundConfig } from '../image/background.js';
import type { TrainingFingerprint } from '../data/fingerprint.js';
import type { ForegroundConfig } from '../foreground/mask.js';
import type { Suspects } from './suspects.js';

export const MODEL_FORMAT = 'patchcore-ts/model@1';

export interface BackboneRef {
  id: string; // registry id or .onnx path
  hash: string; // sha256 of the ONNX graph used at fit time
  layers: [string, string];
  /** --precision int8: the calibrated activation ranges that rebuild the int8 graph from the float one. */
  int8?: Int8Calibration;
}

export interface ModelConfig {
  format: typeof MODEL_FORMAT;
  createdAt: string;
  /** The tool that wrote the file (package.json name and version); absent in files from before 0.1.0. */
  tool?: { name: string; version: string };
  /** Which images the bank was fitted on (data/fingerprint.ts); absent in older files. */
  trainingData?: TrainingFingerprint;
  backbone: BackboneRef;
  preprocess: PreprocessConfig;
  /** Background-anomaly removal, with the RGB range actually used (auto resolved per image). */
  background: BackgroundConfig | null;
  featureDim: number; // 0 = full concatenation
  /** The backbone input size shared by all training images (absent when they differ); export fixes its graph to it. */
  inputSize?: { width: number; height: number };
  /**
   * The patch grid's stride in input pixels: the map places the cells at that spacing, centred
   * (scoring/anomaly-map.ts). Absent in models fitted before it: their grid is stretched over the input.
   */
  mapStride?: number;
  /** method: how the coreset was selected (memory/select.ts), e.g. 'exact greedy'. */
  /**
   * radius: the largest distance from a training patch to its nearest bank entry, in the coreset's
   * 128-d projection (memory/cover.ts); `update` adds entries until new patches are that close.
   * Absent in models fitted before it.
   */
  coreset: { ratio: number; seed: number; trainPatches: number; method?: string; radius?: number };
  scoring: ScoringConfig;
  /** --foreground: the mask whose background cells score zero (foreground/); absent when off. */
  foreground?: ForegroundConfig;
  bank: { file: string; sha256: string; size: number; dim: number; b: number };
  /** Leave-one-image-out image scores of the training images (n of them). */
  /** Leave-one-out scores of the threshold's sample; `median` is the drift gauges' reference (absent in older models). */
  trainScores: { mean: number; std: number; max: number; n: number; median?: number };
  /** Verdict threshold on the image score: anomalous when score > threshold. */
  threshold: number;
  /** Where the threshold came from, for the record (fit's conformal quantile, calibrate, the page, a flag). */
  thresholdInfo: ThresholdInfo;
  /** Threshold on anomaly-map values for defect masks and regions; null for models fitted before it existed. */
  pixelThreshold: number | null;
  pixelThresholdInfo?: ThresholdInfo;
  /** normalized = 1 / (1 + exp(−(score − threshold) / scale)); see scoring/decision.ts. */
  normalization: { scale: number };
  /**
   * The leave-one-image-out scores the threshold was taken from, with each image's name (relative
   * to the training folder; updates add theirs): `update` re-derives the threshold from them.
   */
  leaveOneOut?: { files: string[]; image: number[]; pixel: number[] };
  /** model_id of the version this one was updated from (model/update.ts). */
  parent?: string;
  /** What the update that made this version did. */
  update?: UpdateRecord;
  /** Training images whose leave-one-out score looks like a defect's (model/suspects.ts). */
  suspects?: Suspects;
}

export interface UpdateRecord {
  date: string;
  /** Images added, with the bank entries each brought. */
  added: { file: string; entries: number }[];
  /** Images that could not be read or extracted: nothing of them was added. */
  failed: { file: string; error: string }[];
  /** Coverage radius used, and whether it was estimated (a model fitted before it was recorded). */
  radius: number;
  radiusEstimated?: boolean;
  /** How the threshold was set (re-derived, or kept and why). */
  threshold: string;
}

export type ThresholdMethod = 'conformal' | 'f1-max' | 'min-recall' | 'manual';

export interface ThresholdInfo {
  method: ThresholdMethod;
  /** Images the value was chosen on (training images for conformal, labelled ones for calibrate). */
  n: number;
  date: string;
  /** conformal: the false-alarm rate asked for, and the one n images can promise. */
  targetFpr?: number;
  promisedFpr?: number;
  /** calibrate: what the threshold achieved on the labelled images. */
  f1?: number;
  recall?: number;
  fpr?: number;
  /** manual: who set it (`--threshold`, the web page). */
  source?: string;
  warning?: string;
}

// The defaults and presets are declared with the settings (src/settings/); re-exported for the model's readers.
export { DEFAULT_SCORING, DEFAULT_TARGET_FPR, DEFAULT_PRESET, PRESETS, type Preset } from '../settings/index.js';

/** The release whose resize became Pillow's bilinear (image/resize.ts); libvips resized before it. */
export const RESIZE_SINCE = '0.2.0';

/** a < b for dotted release numbers. */
function olderThan(a: string, b: string): boolean {
  const x = a.split('.').map(Number),
    y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return false;
}

/**
 * A warning for models fitted before RESIZE_SINCE: their images are resized a little differently
 * now (about 1.5 grey levels on average), so scores shift slightly against a threshold set on the
 * old ones. Null for current models.
 */
export function resizeChangeNote(c: Pick<ModelConfig, 'tool'>): string | null {
  const v = c.tool?.version;
  if (v !== undefined && !olderThan(v, RESIZE_SINCE)) return null;
  return `warning: this model was fitted by patchcore-ts ${v ?? 'before 0.1.0'}, which resized images with libvips; since ${RESIZE_SINCE} images are resized as Pillow does, so scores can shift slightly: refit it, or run calibrate, before relying on its saved threshold`;
}

/** Models fitted before calibrated thresholds: keep their threshold, say where it came from, derive a scale. */
export function upgradeThreshold(c: ModelConfig): ModelConfig {
  const legacy = c as ModelConfig & { thresholdSource?: string };
  if (!legacy.thresholdInfo) {
    legacy.thresholdInfo = { method: 'manual', n: 0, date: legacy.createdAt, source: legacy.thresholdSource ?? 'unknown' };
    delete legacy.thresholdSource;
  }
  legacy.pixelThreshold ??= null;
  const std = legacy.trainScores?.std;
  legacy.normalization ??= { scale: std > 0 ? std : Math.max(Math.abs(legacy.threshold) * 0.1, 1e-12) };
  return legacy;
}
