// Locally aware patch features (PatchCore sec. 3.1): 3x3 neighbourhood average of each layer,
// deep map bilinearly upsampled onto the shallow (stride-8) grid, concatenated per patch.
import type { FeatureMaps, PatchFeatures, Tensor } from '../types.js';

export interface AggregateOptions {
  /** Reduce the concatenated vector to this many dims by adaptive average pooling (official code: 1024); 0 keeps all. */
  dim: number;
}

/** Scratch buffers reused across calls (aggregate is synchronous, so one set suffices). */
const pool = { a: new Float32Array(0), b: new Float32Array(0), rows: new Float32Array(0) };
function scratch(which: keyof typeof pool, n: number): Float32Array {
  if (pool[which].length < n) pool[which] = new Float32Array(n);
  return pool[which];
}

/**
 * One image's two maps -> gridH*gridW rows of (C1+C2 | dim) features.
 *
 * The same arithmetic as avgPool3x3 + resizeBilinearCHW + a CHW->rows transpose (bit for bit), but
 * fused: the horizontal 3-sum of each map is taken while transposing it to patch-major order (the
 * only strided pass, over the inputs, before the deep map is upsampled), and the vertical 3-sum and
 * the bilinear upsampling then write each output row contiguously.
 */
export function aggregate(maps: FeatureMaps, opts: AggregateOptions = { dim: 0 }): PatchFeatures {
  const [, c1, h, w] = maps.shallow.dims;
  const [, c2, h2, w2] = maps.deep.dims;
  const full = c1 + c2;
  const dim = opts.dim > 0 && opts.dim < full ? opts.dim : full;
  const count = h * w;
  const rows = dim === full ? new Float32Array(count * full) : scratch('rows', count * full);

  // shallow: horizontal sums, transposed to [p][c]; then vertical sums / 9 into rows[p][0..c1)
  const hs = scratch('a', count * c1);
  hsumTransposed(maps.shallow.data, c1, h, w, hs);
  vsumInto(hs, c1, h, w, rows, full, 0);

  // deep: the same into a [p][c] buffer, then bilinear onto the shallow grid into rows[p][c1..)
  const count2 = h2 * w2;
  const hd = scratch('b', 2 * count2 * c2);
  const pooled = hd.subarray(count2 * c2, 2 * count2 * c2);
  hsumTransposed(maps.deep.data, c2, h2, w2, hd);
  if (h2 === h && w2 === w) vsumInto(hd, c2, h, w, rows, full, c1);
  else {
    vsumInto(hd, c2, h2, w2, pooled, c2, 0);
    resizeRowsInto(pooled, c2, h2, w2, h, w, rows, full, c1);
  }

  if (dim === full) return { gridH: h, gridW: w, dim, count, data: rows };
  const out = new Float32Array(count * dim);
  for (let p = 0; p < count; p++) adaptiveAvgPool1d(rows.subarray(p * full, (p + 1) * full), out, p * dim, dim);
  return { gridH: h, gridW: w, dim, count, data: out };
}

/** dst[p*c + ch] = src[ch][p] + src[ch][p-1] + src[ch][p+1] (zero outside the row), tiled over patches. */
function hsumTransposed(src: Float32Array, c: number, h: number, w: number, dst: Float32Array): void {
  const count = h * w;
  const TILE = 16;
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x0 = 0; x0 < w; x0 += TILE) {
      const x1 = Math.min(x0 + TILE, w);
      for (let ch = 0; ch < c; ch++) {
        const s = ch * count + r;
        for (let x = x0; x < x1; x++) dst[(r + x) * c + ch] = src[s + x] + (x > 0 ? src[s + x - 1] : 0) + (x < w - 1 ? src[s + x + 1] : 0);
      }
    }
  }
}

/** out[p*stride + off + ch] = (hs[p][ch] + hs[p-w][ch] + hs[p+w][ch]) / 9 (zero outside the map). */
function vsumInto(hs: Float32Array, c: number, h: number, w: number, out: Float32Array, stride: number, off: number): void {
  for (let y = 0; y < h; y++) {
    const up = y > 0;
    const down = y < h - 1;
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const i = p * c;
      const o = p * stride + off;
      if (up && down) for (let ch = 0; ch < c; ch++) out[o + ch] = (hs[i + ch] + hs[i - w * c + ch] + hs[i + w * c + ch]) / 9;
      else if (down) for (let ch = 0; ch < c; ch++) out[o + ch] = (hs[i + ch] + 0 + hs[i + w * c + ch]) / 9;
      else if (up) for (let ch = 0; ch < c; ch++) out[o + ch] = (hs[i + ch] + hs[i - w * c + ch] + 0) / 9;
      else for (let ch = 0; ch < c; ch++) out[o + ch] = (hs[i + ch] + 0 + 0) / 9;
    }
  }
}

/** Bilinear (align_corners=false) of a [h2*w2][c] map onto [oh*ow] rows: out[p*stride + off + ch]. */
function resizeRowsInto(src: Float32Array, c: number, h2: number, w2: number, oh: number, ow: number, out: Float32Array, stride: number, off: number): void {
  const ys = axis(h2, oh);
  const xs = axis(w2, ow);
  for (let y = 0; y < oh; y++) {
    const { i0: y0, i1: y1, f: fy } = ys[y];
    const gy = 1 - fy;
    for (let x = 0; x < ow; x++) {
      const { i0: x0, i1: x1, f: fx } = xs[x];
      const gx = 1 - fx;
      const a = (y0 * w2 + x0) * c;
      const b = (y0 * w2 + x1) * c;
      const d = (y1 * w2 + x0) * c;
      const e = (y1 * w2 + x1) * c;
      const o = (y * ow + x) * stride + off;
      for (let ch = 0; ch < c; ch++) {
        const top = src[a + ch] * gx + src[b + ch] * fx;
        const bot = src[d + ch] * gx + src[e + ch] * fx;
        out[o + ch] = top * gy + bot * fy;
      }
    }
  }
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

/** torch adaptive_avg_pool1d's window i of L inputs pooled to dim: [⌊iL/dim⌋, ⌈(i+1)L/dim⌉). */
export function poolWindow(i: number, L: number, dim: number): [number, number] {
  return [Math.floor((i * L) / dim), Math.ceil(((i + 1) * L) / dim)];
}

/** torch adaptive_avg_pool1d of `row` into out[off..off+dim). */
function adaptiveAvgPool1d(row: Float32Array, out: Float32Array, off: number, dim: number): void {
  const L = row.length;
  for (let i = 0; i < dim; i++) {
    const [start, end] = poolWindow(i, L, dim);
    let s = 0;
    for (let j = start; j < end; j++) s += row[j];
    out[off + i] = s / (end - start);
  }
}
