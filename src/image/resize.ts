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
  const first = new Int32Array(outSize),
    count = new Int32Array(outSize),
    k = new Int32Array(outSize * ksize);
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

/** One pass along x (`horizontal`) or y of an RGB image: the plain loop, the reference of the fast passes. */
function pass(src: Uint8Array, w: number, h: number, outW: number, outH: number, horizontal: boolean): Uint8Array {
  const t = horizontal ? taps(w, outW) : taps(h, outH);
  const out = new Uint8Array(outW * outH * 3);
  const step = horizontal ? 3 : w * 3; // distance between neighbouring taps in src
  for (let y = 0; y < outH; y++)
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const base = horizontal ? (y * w + t.first[o]) * 3 : (t.first[o] * w + x) * 3;
      const kb = o * t.ksize,
        n = t.count[o];
      for (let c = 0; c < 3; c++) {
        let acc = HALF;
        for (let i = 0, p = base + c; i < n; i++, p += step) acc += src[p] * t.k[kb + i];
        out[(y * outW + x) * 3 + c] = clip8(acc);
      }
    }
  return out;
}

/** The horizontal pass, three channels per weight load, 2 and 3 taps unrolled (same sums as `pass`). */
function passX(src: Uint8Array, w: number, h: number, outW: number): Uint8Array {
  const { first, count, k, ksize } = taps(w, outW);
  const out = new Uint8Array(outW * h * 3);
  for (let y = 0; y < h; y++) {
    const row = y * w * 3;
    for (let x = 0, o = y * outW * 3; x < outW; x++, o += 3) {
      const p = row + first[x] * 3,
        kb = x * ksize,
        c = count[x];
      if (c === 2) {
        const k0 = k[kb],
          k1 = k[kb + 1];
        out[o] = clip8(HALF + src[p] * k0 + src[p + 3] * k1);
        out[o + 1] = clip8(HALF + src[p + 1] * k0 + src[p + 4] * k1);
        out[o + 2] = clip8(HALF + src[p + 2] * k0 + src[p + 5] * k1);
      } else if (c === 3) {
        const k0 = k[kb],
          k1 = k[kb + 1],
          k2 = k[kb + 2];
        out[o] = clip8(HALF + src[p] * k0 + src[p + 3] * k1 + src[p + 6] * k2);
        out[o + 1] = clip8(HALF + src[p + 1] * k0 + src[p + 4] * k1 + src[p + 7] * k2);
        out[o + 2] = clip8(HALF + src[p + 2] * k0 + src[p + 5] * k1 + src[p + 8] * k2);
      } else {
        let r = HALF,
          g = HALF,
          b = HALF;
        for (let i = 0, q = p; i < c; i++, q += 3) {
          const wt = k[kb + i];
          r += src[q] * wt;
          g += src[q + 1] * wt;
          b += src[q + 2] * wt;
        }
        out[o] = clip8(r);
        out[o + 1] = clip8(g);
        out[o + 2] = clip8(b);
      }
    }
  }
  return out;
}

/**
 * The vertical pass, one output row at a time with its taps' weights in locals (2 and 3 taps, what
 * enlarging and mild shrinking give, unrolled): each value is summed in a register, 3× faster than
 * accumulating whole rows in an array. Sums are integers below 2^31, so the doubles are exact.
 */
function passY(src: Uint8Array, w: number, h: number, outH: number): Uint8Array {
  const { first, count, k, ksize } = taps(h, outH);
  const n = w * 3,
    out = new Uint8Array(n * outH);
  for (let y = 0; y < outH; y++) {
    const kb = y * ksize,
      r0 = first[y] * n,
      o = y * n,
      c = count[y];
    if (c === 2) {
      const k0 = k[kb],
        k1 = k[kb + 1],
        r1 = r0 + n;
      for (let j = 0; j < n; j++) out[o + j] = clip8(HALF + src[r0 + j] * k0 + src[r1 + j] * k1);
    } else if (c === 3) {
      const k0 = k[kb],
        k1 = k[kb + 1],
        k2 = k[kb + 2],
        r1 = r0 + n,
        r2 = r1 + n;
      for (let j = 0; j < n; j++) out[o + j] = clip8(HALF + src[r0 + j] * k0 + src[r1 + j] * k1 + src[r2 + j] * k2);
    } else {
      for (let j = 0; j < n; j++) {
        let acc = HALF;
        for (let i = 0, p = r0 + j; i < c; i++, p += n) acc += src[p] * k[kb + i];
        out[o + j] = clip8(acc);
      }
    }
  }
  return out;
}

type Pass = (src: Uint8Array, w: number, h: number, out: number) => Uint8Array;

/** Horizontal pass, then vertical, each only where that side changes. */
function twoPass(img: RgbImage, width: number, height: number, x: Pass, y: Pass): RgbImage {
  if (img.width === width && img.height === height) return img;
  let data = img.data;
  if (width !== img.width) data = x(data, img.width, img.height, width);
  if (height !== img.height) data = y(data, width, img.height, height);
  return { width, height, data };
}

/** Resize to width × height; the image itself when the size is unchanged. */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  return twoPass(img, width, height, passX, passY);
}

/** The same resize with the plain loop (`pass`): the reference the fast passes are tested equal to. */
export function resizeBilinearPlain(img: RgbImage, width: number, height: number): RgbImage {
  return twoPass(
    img,
    width,
    height,
    (s, w, h, o) => pass(s, w, h, o, h, true),
    (s, w, h, o) => pass(s, w, h, w, o, false),
  );
}
