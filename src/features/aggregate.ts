// Locally aware patch features (PatchCore sec. 3.1): 3x3 neighbourhood average of each layer,
// deep map bilinearly upsampled onto the shallow (stride-8) grid, concatenated per patch.
import type { FeatureMaps, PatchFeatures, Tensor } from '../types.js';

export interface AggregateOptions {
  /** Reduce the concatenated vector to this many dims by adaptive average pooling (official code: 1024); 0 keeps all. */
  dim: number;
}

/** One image's two maps -> gridH*gridW rows of (C1+C2 | dim) features. */
export function aggregate(maps: FeatureMaps, opts: AggregateOptions = { dim: 0 }): PatchFeatures {
  const a = avgPool3x3(maps.shallow);
  const [, c1, h, w] = a.dims;
  const b = resizeBilinearCHW(avgPool3x3(maps.deep), h, w);
  const c2 = b.dims[1];
  const full = c1 + c2;
  const dim = opts.dim > 0 && opts.dim < full ? opts.dim : full;
  const count = h * w;
  // CHW planes -> one row per patch, transposed in tiles of patches so reads stay contiguous
  const rows = new Float32Array(count * full);
  const TILE = 16;
  for (let p0 = 0; p0 < count; p0 += TILE) {
    const p1 = Math.min(p0 + TILE, count);
    for (let c = 0; c < c1; c++) for (let p = p0; p < p1; p++) rows[p * full + c] = a.data[c * count + p];
    for (let c = 0; c < c2; c++) for (let p = p0; p < p1; p++) rows[p * full + c1 + c] = b.data[c * count + p];
  }
  if (dim === full) return { gridH: h, gridW: w, dim, count, data: rows };
  const out = new Float32Array(count * dim);
  for (let p = 0; p < count; p++) adaptiveAvgPool1d(rows.subarray(p * full, (p + 1) * full), out, p * dim, dim);
  return { gridH: h, gridW: w, dim, count, data: out };
}

/** 3x3 average, stride 1, zero padding 1, padding counted (torch AvgPool2d default, as anomalib). */
export function avgPool3x3(t: Tensor): Tensor {
  const [n, c, h, w] = t.dims;
  const out = new Float32Array(t.data.length);
  const tmp = new Float32Array(h * w);
  for (let plane = 0; plane < n * c; plane++) {
    const src = t.data.subarray(plane * h * w, (plane + 1) * h * w);
    // separable: horizontal then vertical sums
    for (let y = 0; y < h; y++) {
      const r = y * w;
      for (let x = 0; x < w; x++) tmp[r + x] = src[r + x] + (x > 0 ? src[r + x - 1] : 0) + (x < w - 1 ? src[r + x + 1] : 0);
    }
    const dst = out.subarray(plane * h * w, (plane + 1) * h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        dst[i] = (tmp[i] + (y > 0 ? tmp[i - w] : 0) + (y < h - 1 ? tmp[i + w] : 0)) / 9;
      }
    }
  }
  return { dims: t.dims, data: out };
}

/** Bilinear resize of [1,C,h,w] with align_corners=false (torch F.interpolate semantics). */
export function resizeBilinearCHW(t: Tensor, oh: number, ow: number): Tensor {
  const [n, c, h, w] = t.dims;
  if (h === oh && w === ow) return t;
  const ys = axis(h, oh);
  const xs = axis(w, ow);
  const out = new Float32Array(n * c * oh * ow);
  for (let plane = 0; plane < n * c; plane++) {
    const s = plane * h * w;
    const d = plane * oh * ow;
    for (let y = 0; y < oh; y++) {
      const { i0: y0, i1: y1, f: fy } = ys[y];
      for (let x = 0; x < ow; x++) {
        const { i0: x0, i1: x1, f: fx } = xs[x];
        const top = t.data[s + y0 * w + x0] * (1 - fx) + t.data[s + y0 * w + x1] * fx;
        const bot = t.data[s + y1 * w + x0] * (1 - fx) + t.data[s + y1 * w + x1] * fx;
        out[d + y * ow + x] = top * (1 - fy) + bot * fy;
      }
    }
  }
  return { dims: [n, c, oh, ow], data: out };
}

/** Source sample positions for align_corners=false. */
export function axis(inSize: number, outSize: number): { i0: number; i1: number; f: number }[] {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    const src = Math.max(0, (o + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    return { i0, i1, f: src - i0 };
  });
}

/** torch adaptive_avg_pool1d of `row` into out[off..off+dim). */
function adaptiveAvgPool1d(row: Float32Array, out: Float32Array, off: number, dim: number): void {
  const L = row.length;
  for (let i = 0; i < dim; i++) {
    const start = Math.floor((i * L) / dim);
    const end = Math.ceil(((i + 1) * L) / dim);
    let s = 0;
    for (let j = start; j < end; j++) s += row[j];
    out[off + i] = s / (end - start);
  }
}
