// Patch-grid scores -> pixel anomaly map, as the official code does it:
// F.interpolate(bilinear, align_corners=False) then scipy.ndimage.gaussian_filter(sigma=4)
// (mode 'reflect' = d c b a | a b c d, truncate 4.0 -> radius int(4σ+0.5)).
import type { PatchScores, ScoreMap } from '../types.js';

/** Source coordinates of PyTorch's align_corners=false resize along one axis. */
function axisTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; t: Float32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const t = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, (o + 0.5) * scale - 0.5); // PyTorch clamps negatives to 0
    const a = Math.min(Math.floor(src), inSize - 1);
    i0[o] = a;
    i1[o] = Math.min(a + 1, inSize - 1);
    t[o] = src - a;
  }
  return { i0, i1, t };
}

/** Bilinear resize with align_corners=false (PyTorch F.interpolate semantics). */
export function resizeBilinear(map: ScoreMap, width: number, height: number): ScoreMap {
  const { width: w0, data: src } = map;
  const x = axisTaps(w0, width);
  const y = axisTaps(map.height, height);
  const data = new Float32Array(width * height);
  for (let r = 0; r < height; r++) {
    const a = y.i0[r] * w0;
    const b = y.i1[r] * w0;
    const ty = y.t[r];
    for (let c = 0; c < width; c++) {
      const tx = x.t[c];
      const top = src[a + x.i0[c]] * (1 - tx) + src[a + x.i1[c]] * tx;
      const bottom = src[b + x.i0[c]] * (1 - tx) + src[b + x.i1[c]] * tx;
      data[r * width + c] = top * (1 - ty) + bottom * ty;
    }
  }
  return { width, height, data };
}

/** scipy's normalised 1-D Gaussian kernel, radius int(truncate·σ + 0.5). */
export function gaussianKernel(sigma: number, truncate = 4): Float64Array {
  const radius = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp((-0.5 * i * i) / (sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** scipy 'reflect' index: half-sample symmetric, periodic with period 2n. */
export function reflectIndex(i: number, n: number): number {
  const p = 2 * n;
  const m = ((i % p) + p) % p;
  return m < n ? m : p - 1 - m;
}

/** Convolve `count` lines of length n (element j of line l at base(l) + j·step), in place. */
function blurLines(data: Float32Array, n: number, count: number, lineStride: number, step: number, k: Float64Array): void {
  const r = (k.length - 1) >> 1;
  const padded = new Float64Array(n + 2 * r);
  const srcIdx = Int32Array.from({ length: n + 2 * r }, (_, j) => reflectIndex(j - r, n));
  for (let l = 0; l < count; l++) {
    const base = l * lineStride;
    for (let j = 0; j < padded.length; j++) padded[j] = data[base + srcIdx[j] * step];
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k.length; t++) s += padded[j + t] * k[t];
      data[base + j * step] = s;
    }
  }
}

/** Separable Gaussian blur matching scipy.ndimage.gaussian_filter(mode='reflect', truncate=4). */
export function gaussianBlur(map: ScoreMap, sigma: number): ScoreMap {
  const data = Float32Array.from(map.data);
  if (sigma > 0) {
    const k = gaussianKernel(sigma);
    blurLines(data, map.width, map.height, map.width, 1, k); // rows
    blurLines(data, map.height, map.width, 1, map.width, k); // columns
  }
  return { width: map.width, height: map.height, data };
}

/** Pixel anomaly map of one image: bilinear upsampling of the patch grid, then Gaussian σ. */
export function anomalyMap(ps: PatchScores, width: number, height: number, sigma = 4): ScoreMap {
  const grid: ScoreMap = { width: ps.gridW, height: ps.gridH, data: ps.scores };
  return gaussianBlur(resizeBilinear(grid, width, height), sigma);
}
