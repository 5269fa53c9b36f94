// The typed data objects that cross each pipeline-stage boundary.
// image -> backbone -> features -> memory -> scoring -> metrics/report.
import type { ScoreKind } from './scoring/rules/index.js';

/** Decoded image, 8-bit RGB, row-major HWC. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array; // length = width*height*3
}

/** Dense float tensor, row-major, NCHW for images / feature maps. */
export interface Tensor {
  dims: number[];
  data: Float32Array;
}

/** What a backbone needs from the image stage. */
export interface BackboneSpec {
  id: string; // 'inception_v3', 'wide_resnet50_2', 'resnet18', or a file path
  layers: [string, string]; // graph outputs: shallow (stride 8) then deep (stride 16)
  mean: [number, number, number]; // applied to RGB/255
  std: [number, number, number];
  strides: [number, number];
}

/** How a raw image becomes the backbone input. Stored in model.json. */
export interface PreprocessConfig {
  resize: number; // shorter side, bilinear
  crop: number | 'none'; // center crop size, or keep the resized image whole
  mean: [number, number, number];
  std: [number, number, number];
}

/** Backbone output for one image: two feature maps, [1,C,h,w] each. */
export interface FeatureMaps {
  shallow: Tensor;
  deep: Tensor;
}

/** Locally aware patch features of one or more images: rows = patches. */
export interface PatchFeatures {
  gridH: number;
  gridW: number;
  dim: number;
  count: number; // number of patches (images * gridH * gridW)
  data: Float32Array; // count × dim, row-major
}

/** The memory bank: coreset-selected patch features. */
export interface MemoryBank {
  dim: number;
  size: number;
  data: Float32Array; // size × dim
  /** N_b table for the neighbourhood score and eq. 7: size × b, each row starts with the point itself. */
  neighbours?: Int32Array;
  b?: number;
}

/** The scoring rules' kinds, derived from their registry (src/scoring/rules/). */
export type { ScoreKind };

export interface ScoringConfig {
  kind: ScoreKind;
  k: number; // knn-mean
  b: number; // neighbourhood and reweighting
  squared: boolean; // faiss parity: report d² instead of d
  reweight: boolean; // PatchCore eq. 7 on the image score
  sigma: number; // Gaussian σ of the anomaly map
}

/** Scores on the patch grid of one image. */
export interface PatchScores {
  gridH: number;
  gridW: number;
  scores: Float32Array; // gridH*gridW
  nearest: Int32Array; // index of m*(p) in the bank
  nearestDist: Float32Array; // d(p, m*) (true distance, never squared)
}

/** A single-channel float map. */
export interface ScoreMap {
  width: number;
  height: number;
  data: Float32Array;
}

/** Where the backbone input sits on the original image: resize, then crop (in resized pixels). */
export interface Geometry {
  origW: number;
  origH: number;
  resizedW: number;
  resizedH: number;
  cropX: number;
  cropY: number;
  cropW: number;
  cropH: number;
}

/** A connected blob of the defect mask, on the original image. */
export interface Region {
  area: number; // pixels
  box: { x: number; y: number; width: number; height: number };
}

/** What predict returns for one image (PatchCore, the exported graph, the server). */
export interface PredictResult {
  /** Raw image score (distance units of the model's scoring). */
  score: number;
  /** Monotone map of the score to [0, 1] with the threshold at exactly 0.5 (see scoring/decision.ts). */
  normalized: number;
  /** normalized > 0.5, i.e. score > threshold (or the region rule, when the model sets one). */
  anomalous: boolean;
  threshold: number;
  /** Short hash of model.json and the bank: which model made this verdict. */
  modelId: string;
  /** Map at the backbone input (crop) size. */
  map: ScoreMap;
  /**
   * Map on the original image; outside the crop it holds the map minimum (nothing was seen there).
   * Computed lazily, on first read (an enumerable getter).
   */
  readonly mapOriginal: ScoreMap;
  geometry: Geometry;
  /** The patch grid (absent from an exported graph's results). */
  patches?: PatchScores;
}
