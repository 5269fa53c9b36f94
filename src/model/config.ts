// model.json: everything needed to reproduce a fitted model's predictions.
import type { PreprocessConfig, ScoringConfig } from '../types.js';
import type { Int8Calibration } from '../onnx/quantize.js';
import type { BackgroundConfig } from '../image/background.js';
import type { TrainingFingerprint } from '../data/fingerprint.js';

export const MODEL_FORMAT = 'patchcore-ts/model@1';

export interface BackboneRef {
  id: string;            // registry id or .onnx path
  hash: string;          // sha256 of the ONNX graph used at fit time
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
  featureDim: number;    // 0 = full concatenation
  coreset: { ratio: number; seed: number; trainPatches: number };
  scoring: ScoringConfig;
  bank: { file: string; sha256: string; size: number; dim: number; b: number };
  /** Image-score statistics of the training images, scored against the final bank. */
  trainScores: { mean: number; std: number; max: number };
  /** Verdict threshold on the image score; from eval's F1-max when available. */
  threshold: number;
  thresholdSource: string;
}

export const DEFAULT_SCORING: ScoringConfig = { kind: 'nearest', k: 3, b: 9, squared: false, reweight: false, sigma: 4 };
