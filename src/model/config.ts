// model.json: everything needed to reproduce a fitted model's predictions.
import type { PreprocessConfig, ScoringConfig } from '../types.js';
import type { Int8Calibration } from '../onnx/quantize.js';
import type { BackgroundConfig } from '../image/background.js';
import { UserError } from '../util/errors.js';

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
  backbone: BackboneRef;
  preprocess: PreprocessConfig;
  /** Background-anomaly removal, with the RGB range actually used (auto resolved per image). */
  background: BackgroundConfig | null;
  featureDim: number;    // 0 = full concatenation
  /** method: how the coreset was selected (memory/select.ts), e.g. 'exact greedy'. */
  coreset: { ratio: number; seed: number; trainPatches: number; method?: string };
  scoring: ScoringConfig;
  bank: { file: string; sha256: string; size: number; dim: number; b: number };
  /** Image-score statistics of the training images, scored against the final bank. */
  trainScores: { mean: number; std: number; max: number };
  /** Verdict threshold on the image score; from eval's F1-max when available. */
  threshold: number;
  thresholdSource: string;
}

export const DEFAULT_SCORING: ScoringConfig = { kind: 'nearest', k: 3, b: 9, squared: false, reweight: false, sigma: 4 };

/** Parse and check model.json; wrong versions get a clear message. */
export function parseModelConfig(text: string, file: string): ModelConfig {
  let c: ModelConfig;
  try {
    c = JSON.parse(text) as ModelConfig;
  } catch {
    throw new UserError(`${file}: not valid JSON`);
  }
  if (c?.format !== MODEL_FORMAT)
    throw new UserError(`${file}: model format '${String(c?.format)}' is not supported by this version (expects '${MODEL_FORMAT}'); refit the model`);
  return c;
}
