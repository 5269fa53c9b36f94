// The library's public API: what a user needs to fit, load, predict, update, evaluate, calibrate
// and export a model. Everything else is internal and may change between releases.
export type * from './types.js';

// fit, load, predict, update (the model and its options)
export { PatchCore, modelId, manualThreshold, type FitOptions, type PredictResult, type Progress } from './model/patchcore.js';
export type { UpdateOptions, UpdateResult, UpdatedImage } from './model/update.js';
export type { ModelConfig, ThresholdInfo } from './model/config.js';

// presets and settings
export {
  PRESETS,
  DEFAULT_PRESET,
  DEFAULT_SCORING,
  DEFAULT_TARGET_FPR,
  resolveFitOptions,
  type Preset,
  type FitSettings,
  type FitOverrides,
} from './settings/index.js';

// backbones and images
export { loadBackbone, resolveBackbone, backboneIds, type Backbone } from './backbone/index.js';
export { loadImage, decodeImage, encodePng } from './image/load.js';
export { removeBackground, DEFAULT_BACKGROUND, type BackgroundConfig } from './image/background.js';
export { FOREGROUND_MODES, type ForegroundMode, type ForegroundConfig } from './foreground/mask.js';

// scoring rules: the built-in ones and the registry a new rule joins
export {
  registerScoringRule,
  scoringRules,
  scoringRule,
  defineRule,
  SCORE_KINDS,
  type ScoringRule,
  type PatchNeighbours,
  type ScoreGraphInputs,
  type ScoringParams,
} from './scoring/rules/index.js';

// evaluation, metrics and thresholds
export { evaluate, type EvalResult, type EvalOptions, type MetricSummary } from './model/evaluate.js';
export * from './metrics/index.js';
export { conformalThreshold, normalizeScore, normalizationScale } from './scoring/decision.js';
export { f1Threshold, recallThreshold, confusion, type Confusion } from './model/calibrate.js';

// ONNX export
export { exportModel, type ExportOptions, type ExportResult } from './export/export.js';

// data sets and reports
export { loadDataset, trainImages, type Dataset } from './data/dataset.js';
export { writeSyntheticDataset, syntheticSample } from './data/synthetic.js';
export { overlayPng } from './report/overlay.js';

// errors: one line each, `Expected <what> for <option> but received <value>`
export { UserError, invalid } from './util/errors.js';
