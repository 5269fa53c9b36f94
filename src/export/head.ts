// The graph pieces around the backbone, each mirroring its TypeScript original:
// input normalisation (image/preprocess.ts), patch aggregation (features/aggregate.ts) and the
// anomaly-map post-processing (scoring/anomaly-map.ts).
import { poolWindow } from '../features/aggregate.js';
import type { PreprocessConfig } from '../types.js';
import type { GraphBuilder } from '../onnx/builder.js';
import { axisMatrix } from '../scoring/anomaly-map.js';

/** uint8 [N,H,W,3] RGB -> float [N,3,H,W], (x/255 − mean)/std as normalise() does. */
export function normaliseNodes(g: GraphBuilder, input: string, pre: PreprocessConfig, out: string): string {
  const x = g.op('Transpose', [g.op('Cast', [input], { to: 1 })], { perm: [0, 3, 1, 2] });
  const mean = g.init(g.fresh('mean'), [1, 3, 1, 1], Float32Array.from(pre.mean));
  const invStd = g.init(g.fresh('inv_std'), [1, 3, 1, 1], Float32Array.from(pre.std, (s) => 1 / s));
  const scaled = g.op('Div', [x, g.scalar(g.fresh('c255'), 255)]);
  return g.op('Mul', [g.op('Sub', [scaled, mean]), invStd], {}, out);
}

/** Bilinear resize of [N,C,h,w] to [N,C,oh,ow], align_corners=false (torch F.interpolate). */
export function resizeNodes(g: GraphBuilder, x: string, oh: number, ow: number): string {
  const nc = g.op('Shape', [x], { start: 0, end: 2 });
  const sizes = g.op('Concat', [nc, g.ints(g.fresh('hw'), [oh, ow])], { axis: 0 });
  // pytorch_half_pixel = half_pixel except for a length-1 output; ORT clamps source coordinates as torch does
  return g.op('Resize', [x, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' });
}

/**
 * torch adaptive_avg_pool1d of each [n,L] row to [n,dim]: window i is [⌊iL/dim⌋, ⌈(i+1)L/dim⌉).
 * As a Gather of every window padded to the widest one, weighted by 1/width (0 for padding),
 * then summed: a few small initializers instead of an L×dim matrix.
 */
export function adaptivePoolNodes(g: GraphBuilder, rows: string, L: number, dim: number): string {
  const windows = Array.from({ length: dim }, (_, i) => poolWindow(i, L, dim));
  const width = Math.max(...windows.map(([s, e]) => e - s));
  const idx = new BigInt64Array(dim * width);
  const weight = new Float32Array(dim * width);
  windows.forEach(([s, e], i) => {
    for (let j = 0; j < width; j++) {
      idx[i * width + j] = BigInt(Math.min(s + j, e - 1));
      weight[i * width + j] = s + j < e ? 1 / (e - s) : 0;
    }
  });
  const picked = g.op('Gather', [rows, g.init(g.fresh('pool_idx'), [dim, width], idx)], { axis: 1 }); // [n,dim,width]
  return g.op('ReduceSum', [g.op('Mul', [picked, g.init(g.fresh('pool_w'), [dim, width], weight)]), g.ints(g.fresh('axes'), [2])], { keepdims: 0 });
}

export interface FeatureGrid {
  c1: number;
  c2: number;
  /** shallow grid = patch grid */
  h: number;
  w: number;
  /** deep grid */
  dh: number;
  dw: number;
}

/** Two feature maps -> [N·h·w, dim] patch features (rows in image, then row-major patch order). */
export function aggregateNodes(g: GraphBuilder, shallow: string, deep: string, grid: FeatureGrid, dim: number): string {
  const pool = (x: string) => g.op('AveragePool', [x], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], count_include_pad: 1 });
  const a = pool(shallow);
  let b = pool(deep);
  if (grid.dh !== grid.h || grid.dw !== grid.w) b = resizeNodes(g, b, grid.h, grid.w);
  const C = grid.c1 + grid.c2;
  const cat = g.op('Concat', [a, b], { axis: 1 });
  const rows = g.op('Reshape', [g.op('Transpose', [cat], { perm: [0, 2, 3, 1] }), g.ints(g.fresh('shape'), [-1, C])]);
  if (dim >= C) return rows;
  return adaptivePoolNodes(g, rows, C, dim);
}

/**
 * Patch scores [N·h·w] -> [N,1,H,W] map as anomalyMap computes it: each axis is one linear map
 * (upsampling, stretched or at the grid's stride, then the Gaussian with scipy's 'reflect'
 * border), so the map is Y · grid · Xᵀ: two MatMuls with small constant matrices.
 */
export function mapNodes(g: GraphBuilder, patch: string, h: number, w: number, H: number, W: number, sigma: number, out: string, stride?: number): string {
  const grid = g.op('Reshape', [patch, g.ints(g.fresh('shape'), [-1, 1, h, w])]);
  const X = axisMatrix(w, W, sigma, stride); // W × w
  const Xt = new Float32Array(w * W);
  for (let o = 0; o < W; o++) for (let j = 0; j < w; j++) Xt[j * W + o] = X[o * w + j];
  const across = g.op('MatMul', [grid, g.init(g.fresh('map_x'), [w, W], Xt)]); // [N,1,h,W]
  return g.op('MatMul', [g.init(g.fresh('map_y'), [H, h], axisMatrix(h, H, sigma, stride)), across], {}, out); // [N,1,H,W]
}
