// Bilinear resize of 8-bit RGB, bit-exact with Pillow's Image.resize(BILINEAR): what torchvision's
// Resize does to the PIL images the official PatchCore reads. Pure JS, so Node and the browser page
// preprocess identically (sharp only decodes). Pillow's algorithm (libImaging/Resample.c): a
// triangle filter widened by the scale when shrinking, weights in 22-bit fixed point, a horizontal
// pass rounded to 8 bits, then a vertical pass.
import type { RgbImage } from '../types.js';

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
const MAX = 256 << PRECISION_BITS; // 2^30: clip to 255 from here

interface Taps {
  first: Int32Array; // first source index per output index
  count: Int32Array; // taps per output index
  k: Int32Array; // fixed-point weights, ksize per output index
  ksize: number;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter. */
function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = filterscale; // the triangle's support is 1
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize), count = new Int32Array(outSize), k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const n = Math.min(inSize, Math.trunc(center + support + 0.5)) - lo;
    let sum = 0;
    for (let x = 0; x < n; x++) sum += w[x] = Math.max(0, 1 - Math.abs((x + lo - center + 0.5) / filterscale));
    for (let x = 0; x < n; x++) k[o * ksize + x] = Math.floor(0.5 + (sum !== 0 ? w[x] / sum : w[x]) * (1 << PRECISION_BITS));
    first[o] = lo;
    count[o] = n;
  }
  return { first, count, k, ksize };
}

const clip8 = (v: number): number => (v >= MAX ? 255 : v <= 0 ? 0 : v >> PRECISION_BITS);

/** One pass along x (`horizontal`) or y of an RGB image. */
function pass(src: Uint8Array, w: number, h: number, outW: number, outH: number, horizontal: boolean): Uint8Array {
  const t = horizontal ? taps(w, outW) : taps(h, outH);
  const out = new Uint8Array(outW * outH * 3);
  const step = horizontal ? 3 : w * 3; // distance between neighbouring taps in src
  for (let y = 0; y < outH; y++)
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const base = horizontal ? (y * w + t.first[o]) * 3 : (t.first[o] * w + x) * 3;
      const kb = o * t.ksize, n = t.count[o];
      for (let c = 0; c < 3; c++) {
        let acc = HALF;
        for (let i = 0, p = base + c; i < n; i++, p += step) acc += src[p] * t.k[kb + i];
        out[(y * outW + x) * 3 + c] = clip8(acc);
      }
    }
  return out;
}

/** Resize to width × height; the image itself when the size is unchanged. */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return img;
  let data = img.data;
  if (width !== img.width) data = pass(data, img.width, img.height, width, img.height, true);
  if (height !== img.height) data = pass(data, width, img.height, width, height, false);
  return { width, height, data };
}
