// OpenCV building blocks of background removal: mask morphology, luma, and filters that
// only let background pixels contribute (normalised convolution over a 0/1 weight), so the object can't bleed in.
import type { RgbImage } from '../types.js';
import type { CV, Mat } from './opencv.js';
import { withMats } from './opencv.js';

function matU8(cv: CV, data: Uint8Array, w: number, h: number, channels: 1 | 3): Mat {
  const m = new cv.Mat(h, w, channels === 1 ? cv.CV_8UC1 : cv.CV_8UC3);
  m.data.set(data);
  return m;
}

function matF32(cv: CV, data: Float32Array, w: number, h: number): Mat {
  const m = new cv.Mat(h, w, cv.CV_32FC1);
  m.data32F.set(data);
  return m;
}

/** Open, then close, the background mask with an elliptical element (size <= 1: unchanged). */
export function openClose(cv: CV, mask: Uint8Array, w: number, h: number, size: number): Uint8Array {
  if (size <= 1) return mask.slice();
  return withMats((track) => {
    const m = track(matU8(cv, mask, w, h, 1));
    const k = track(cv.getStructuringElement(cv.MORPH_ELLIPSE, new cv.Size(size, size)));
    const anchor = new cv.Point(-1, -1);
    // Default border value: the image edge neither erodes nor dilates the mask.
    cv.morphologyEx(m, m, cv.MORPH_OPEN, k, anchor, 1, cv.BORDER_CONSTANT, cv.morphologyDefaultBorderValue());
    cv.morphologyEx(m, m, cv.MORPH_CLOSE, k, anchor, 1, cv.BORDER_CONSTANT, cv.morphologyDefaultBorderValue());
    return m.data.slice();
  });
}

/** ITU-R BT.601 luma, rounded exactly as OpenCV's COLOR_RGB2GRAY. */
export function luma(cv: CV, img: RgbImage): Uint8Array {
  return withMats((track) => {
    const src = track(matU8(cv, img.data, img.width, img.height, 3));
    const dst = track(new cv.Mat());
    cv.cvtColor(src, dst, cv.COLOR_RGB2GRAY);
    return dst.data.slice();
  });
}

/**
 * Masked box mean: sum(wt·I)/sum(wt) over a size×size window (even sizes allowed, anchor
 * as OpenCV's blur); wt = 1 for contributing pixels. Outside the image contributes
 * nothing. NaN where the window holds no contributor.
 */
export function maskedMean(cv: CV, gray: Uint8Array, weight: Uint8Array, w: number, h: number, size: number): Float32Array {
  const n = w * h;
  const m = new Float32Array(n);
  const mg = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    m[p] = weight[p];
    mg[p] = weight[p] * gray[p];
  }
  return withMats((track) => {
    const ksize = new cv.Size(size, size);
    const anchor = new cv.Point(-1, -1);
    const sums = [m, mg].map((a) => {
      const src = track(matF32(cv, a, w, h));
      const dst = track(new cv.Mat());
      cv.boxFilter(src, dst, cv.CV_32F, ksize, anchor, false, cv.BORDER_CONSTANT);
      return dst.data32F;
    });
    const out = new Float32Array(n);
    for (let p = 0; p < n; p++) {
      // Sums are exact small integers in float; < 0.5 means no background pixel.
      out[p] = sums[0][p] > 0.5 ? sums[1][p] / sums[0][p] : NaN;
    }
    return out;
  });
}

/**
 * Median of the contributing pixels of each size×size window (size odd), approximately:
 * non-contributors are first replaced by their masked mean (the local background level),
 * which sits in the middle of the background distribution and so leaves the median
 * essentially unbiased, then OpenCV's uint8 medianBlur runs (fast, O(1) per pixel).
 * Non-contributors with no contributor in reach keep their value.
 */
export function maskedMedian(cv: CV, gray: Uint8Array, weight: Uint8Array, w: number, h: number, size: number): Uint8Array {
  const mean = maskedMean(cv, gray, weight, w, h, size);
  const filled = gray.slice();
  for (let p = 0; p < filled.length; p++) {
    if (!weight[p] && !Number.isNaN(mean[p])) filled[p] = Math.round(mean[p]);
  }
  return withMats((track) => {
    const src = track(matU8(cv, filled, w, h, 1));
    const dst = track(new cv.Mat());
    cv.medianBlur(src, dst, size);
    return dst.data.slice();
  });
}

/** Masked box mean rounded to uint8; a pixel with no contributor in reach keeps its gray. */
export function maskedAverage(cv: CV, gray: Uint8Array, weight: Uint8Array, w: number, h: number, size: number): Uint8Array {
  const mean = maskedMean(cv, gray, weight, w, h, size);
  const out = new Uint8Array(mean.length);
  for (let p = 0; p < out.length; p++) out[p] = Number.isNaN(mean[p]) ? gray[p] : Math.round(mean[p]);
  return out;
}
