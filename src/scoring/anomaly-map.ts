// Patch-grid scores -> pixel anomaly map, as the official code does it:
// F.interpolate(bilinear, align_corners=False) then scipy.ndimage.gaussian_filter(sigma=4)
// (mode 'reflect' = d c b a | a b c d, truncate 4.0 -> radius int(4σ+0.5)).
import type { Geometry, PatchScores, ScoreMap } from '../types.js';

/**
 * Source coordinates of PyTorch's align_corners=false resize along one axis: the grid stretched
 * over the output, cell i centred at (i + ½)·out/in. With `stride`, the cells sit at their true
 * spacing instead, centred in the output: cell i at off + i·stride, off = (out − stride·(in − 1))/2
 * (the same when out = in·stride; different for backbones with unpadded convolutions, e.g.
 * InceptionV3 gives 25 cells for 224 px, which stretching spreads 8.96 px apart instead of 8).
 */
function axisTaps(inSize: number, outSize: number, stride?: number): { i0: Int32Array; i1: Int32Array; t: Float32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const t = new Float32Array(outSize);
  const scale = inSize / outSize;
  const off = stride ? (outSize - stride * (inSize - 1)) / 2 : 0;
  for (let o = 0; o < outSize; o++) {
    const src = stride ? Math.min(inSize - 1, Math.max(0, (o + 0.5 - off) / stride)) : Math.max(0, (o + 0.5) * scale - 0.5); // PyTorch clamps negatives to 0
    const a = Math.min(Math.floor(src), inSize - 1);
    i0[o] = a;
    i1[o] = Math.min(a + 1, inSize - 1);
    t[o] = src - a;
  }
  return { i0, i1, t };
}

/**
 * Bilinear resize with align_corners=false (PyTorch F.interpolate semantics). Each source row that
 * an output row needs is interpolated horizontally once (in double, so the result is the same as
 * blending the four corners per pixel), then pairs of those rows are blended vertically.
 */
export function resizeBilinear(map: ScoreMap, width: number, height: number): ScoreMap {
  const { width: w0, data: src } = map;
  const x = axisTaps(w0, width);
  const y = axisTaps(map.height, height);
  const data = new Float32Array(width * height);
  // two horizontally resized source rows, reused while consecutive output rows share them
  let rowA = new Float64Array(width);
  let rowB = new Float64Array(width);
  let haveA = -1;
  let haveB = -1;
  const fill = (row: Float64Array, r: number) => {
    const o = r * w0;
    for (let c = 0; c < width; c++) {
      const tx = x.t[c];
      row[c] = src[o + x.i0[c]] * (1 - tx) + src[o + x.i1[c]] * tx;
    }
  };
  for (let r = 0; r < height; r++) {
    const a = y.i0[r];
    const b = y.i1[r];
    if (haveA !== a) {
      if (haveB === a) {
        [rowA, rowB] = [rowB, rowA];
        [haveA, haveB] = [haveB, haveA];
      } else {
        fill(rowA, a);
        haveA = a;
      }
    }
    if (haveB !== b) {
      fill(rowB, b);
      haveB = b;
    }
    const ty = y.t[r];
    const sy = 1 - ty;
    const o = r * width;
    for (let c = 0; c < width; c++) data[o + c] = rowA[c] * sy + rowB[c] * ty;
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

/**
 * One axis of the map as a banded matrix: output o = Σ_j w[o][j] · grid[j], the Gaussian (reflect
 * borders) applied to the bilinear upsampling, i.e. the product G·U of the two linear maps.
 */
interface AxisOperator {
  /** first grid index each output row reads */
  lo: Int32Array;
  /** band width (grid samples per output), the same for all rows (zero-padded) */
  band: number;
  /** out × band weights */
  w: Float64Array;
}

const operators = new Map<string, AxisOperator>();

function axisOperator(inSize: number, outSize: number, sigma: number, stride?: number): AxisOperator {
  const key = `${inSize}|${outSize}|${sigma}|${stride ?? ''}`;
  let op = operators.get(key);
  if (op) return op;
  const taps = axisTaps(inSize, outSize, stride);
  const k = sigma > 0 ? gaussianKernel(sigma) : Float64Array.of(1);
  const r = (k.length - 1) >> 1;
  const dense = new Float64Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    for (let t = 0; t < k.length; t++) {
      const u = reflectIndex(o + t - r, outSize);
      const tu = taps.t[u];
      dense[o * inSize + taps.i0[u]] += k[t] * (1 - tu);
      dense[o * inSize + taps.i1[u]] += k[t] * tu;
    }
  }
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  let band = 1;
  for (let o = 0; o < outSize; o++) {
    let a = 0;
    let b = inSize - 1;
    while (a < b && dense[o * inSize + a] === 0) a++;
    while (b > a && dense[o * inSize + b] === 0) b--;
    lo[o] = a;
    hi[o] = b + 1;
    band = Math.max(band, b + 1 - a);
  }
  const w = new Float64Array(outSize * band);
  for (let o = 0; o < outSize; o++) {
    const a = Math.min(lo[o], inSize - band); // keep the band inside the grid
    lo[o] = a;
    for (let j = 0; j < band; j++) w[o * band + j] = dense[o * inSize + a + j];
  }
  op = { lo, band, w };
  if (operators.size >= 64) operators.clear();
  operators.set(key, op);
  return op;
}

/** Grid cells each map row (or column) reads along one axis: lo[o] .. lo[o] + band − 1. */
export function axisSupport(inSize: number, outSize: number, sigma: number, stride?: number): { lo: Int32Array; band: number } {
  const { lo, band } = axisOperator(inSize, outSize, sigma, stride);
  return { lo, band };
}

/** One axis of the map as a dense out × in matrix (for the exported graph, where it is a MatMul). */
export function axisMatrix(inSize: number, outSize: number, sigma: number, stride?: number): Float32Array {
  const op = axisOperator(inSize, outSize, sigma, stride);
  const m = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) for (let j = 0; j < op.band; j++) m[o * inSize + op.lo[o] + j] = op.w[o * op.band + j];
  return m;
}

/**
 * Pixel anomaly map of one image: bilinear upsampling of the patch grid, then Gaussian σ.
 * Both steps are linear and separable, so each axis is one precomputed banded matrix (gaussianBlur
 * ∘ resizeBilinear, the same result up to float rounding): gridH×W across, then H×W down, a few
 * grid samples per output instead of 2·(8σ+1) taps per pixel.
 */
export function anomalyMap(ps: PatchScores, width: number, height: number, sigma = 4, stride?: number): ScoreMap {
  const { gridW: gw, gridH: gh, scores } = ps;
  const ox = axisOperator(gw, width, sigma, stride);
  const oy = axisOperator(gh, height, sigma, stride);
  // across: tmp[j][x] = Σ_i ox.w[x][i] · scores[j][ox.lo[x] + i]
  const tmp = new Float64Array(gh * width);
  const bx = ox.band;
  for (let j = 0; j < gh; j++) {
    const row = j * gw;
    const o = j * width;
    for (let x = 0; x < width; x++) {
      const s = row + ox.lo[x];
      const wo = x * bx;
      let acc = 0;
      for (let i = 0; i < bx; i++) acc += ox.w[wo + i] * scores[s + i];
      tmp[o + x] = acc;
    }
  }
  // down: out[y][x] = Σ_i oy.w[y][i] · tmp[oy.lo[y] + i][x]
  const data = new Float32Array(width * height);
  const acc = new Float64Array(width);
  const by = oy.band;
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    const base = oy.lo[y] * width;
    for (let i = 0; i < by; i++) {
      const c = oy.w[y * by + i];
      if (c === 0) continue;
      const o = base + i * width;
      for (let x = 0; x < width; x++) acc[x] += c * tmp[o + x];
    }
    data.set(acc, y * width);
  }
  return { width, height, data };
}

/** Place the crop-size map back onto the original image (undo crop, then resize). */
export function toOriginal(map: ScoreMap, g: Geometry): ScoreMap {
  const full = new Float32Array(g.resizedW * g.resizedH);
  let min = Infinity;
  for (let i = 0; i < map.data.length; i++) min = Math.min(min, map.data[i]);
  full.fill(min); // outside the crop nothing was seen: show the map's floor, not a false 0
  for (let y = 0; y < g.cropH; y++) full.set(map.data.subarray(y * g.cropW, (y + 1) * g.cropW), (y + g.cropY) * g.resizedW + g.cropX);
  return resizeBilinear({ width: g.resizedW, height: g.resizedH, data: full }, g.origW, g.origH);
}
