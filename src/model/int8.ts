// --precision int8: calibrate the backbone on a few training images, as the extractor prepares them.
import type { Backbone } from '../backbone/backbone.js';
import { int8Backbone } from '../backbone/int8.js';
import { loadImage } from '../image/load.js';
import type { RgbImage, Tensor } from '../types.js';
import { UserError } from '../util/errors.js';

export type Precision = 'fp32' | 'int8';

/**
 * Training images whose activation ranges (min/max) set the int8 scales, evenly spaced. Industrial
 * training sets are homogeneous, so a handful covers the ranges; measured in docs/RESULTS.md.
 */
export const CALIBRATION_IMAGES = 8;

export function parsePrecision(s: string): Precision {
  if (s !== 'fp32' && s !== 'int8') throw new UserError(`--precision must be fp32 or int8, got '${s}'`);
  return s;
}

/**
 * The backbone to extract with: as given for fp32, its calibrated int8 version for int8.
 * `prepare` is the extractor's background removal + preprocessing (Extractor.prepare).
 */
export async function backboneFor(precision: Precision, backbone: Backbone, files: string[], prepare: (img: RgbImage) => Promise<{ tensor: Tensor }>): Promise<Backbone> {
  if (precision === 'fp32' || backbone.int8) return backbone;
  const step = Math.max(1, files.length / CALIBRATION_IMAGES);
  const tensors = [];
  for (let i = 0; i < files.length; i += step) tensors.push((await prepare(await loadImage(files[Math.floor(i)]))).tensor);
  return int8Backbone(backbone, tensors);
}
