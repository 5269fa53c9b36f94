// Messages between the page (main thread) and the pipeline worker.
import type { ModelConfig } from '../model/config.js';

/** The largest training set the page accepts: full feature rows of every training patch stay in
 * the tab's memory (200 images × 784 patches × 1056 floats ≈ 660 MB with inception_v3 at 224). */
export const MAX_TRAIN_IMAGES = 200;

/** The largest memory bank the page builds (rows): 40,000 × 1056 floats ≈ 170 MB, held twice (bank and NN graph). */
export const MAX_BANK_ROWS = 40_000;

/**
 * The preset the page fits with (its extraction is built into the manifest): v1, fp32 at 224 crop.
 * The default preset's int8 calibration and whole images at 352 px are not yet run in the page.
 */
export const PAGE_PRESET = 'v1';

export interface SiteManifest {
  backbone: { id: string; hash: string; file: string; bytes: number; spec: import('../types.js').BackboneSpec };
  preprocess: { resize: number; crop: number };
  /** The preset the page fits with, and how it differs from the CLI's default (shown on the page). */
  preset: { name: string; note: string };
  maxTrainImages: number;
  maxBankRows: number;
}

export type Request =
  | { type: 'init'; backend: 'auto' | 'wasm' }
  | { type: 'fit'; files?: File[]; synthetic?: { seeds: number[] }; ratio: number }
  | { type: 'predict'; id: number; file?: File; synthetic?: { seed: number; kind: string; name: string } }
  | { type: 'download' }
  | { type: 'open'; files: File[] };

export interface ModelSummary {
  config: ModelConfig;
  source: string;
}

export interface PredictReply {
  type: 'result';
  id: number;
  name: string;
  score: number;
  threshold: number;
  /** Overlay (image with the jet map blended in), RGBA, at the original size. */
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
  ms: number;
  /** Defect regions at the model's pixel threshold (null when it has none), in original pixels. */
  regions: import('../types.js').Region[] | null;
  /** The part of the image the model saw; outside it nothing was inspected. */
  inspected: { x: number; y: number; width: number; height: number };
}

export type Reply =
  | { type: 'ready'; manifest: SiteManifest; ortThreads: number; backend: 'webgpu' | 'wasm' }
  | { type: 'progress'; stage: string; done: number; total: number }
  | { type: 'fitted'; model: ModelSummary; ms: number }
  | PredictReply
  | { type: 'zip'; name: string; bytes: Uint8Array }
  | { type: 'error'; id?: number; message: string };
