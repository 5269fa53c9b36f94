// The graph pieces around the backbone, each mirroring its TypeScript original:
// input normalisation (image/preprocess.ts), patch aggregation (features/aggregate-graph.ts, which
// predict runs too) and the anomaly-map post-processing (scoring/anomaly-map.ts).
import type { PreprocessConfig } from '../types.js';
import type { GraphBuilder } from '../onnx/builder.js';
import { axisMatrix } from '../scoring/anomaly-map.js';

/** uint8 [N,H,W,3] RGB -> float [N,3,H,W], (x/255 − mean)/std as normalise() does. */
export function normaliseNodes(g: GraphBuilder, input: string, pre: PreprocessConfig, out: string): string {
  const x = g.op('Transpose', [g.op('Cast', [input], { to: 1 })], { perm: [0, 3, 1, 2] });
  const mean = g.init(g.fresh('mean'), [1, 3, 1, 1], Float32Array.from(pre.mean));
  const invStd = g.init(
    g.fresh('inv_std'),
    [1, 3, 1, 1],
    Float32Array.from(pre.std, (s) => 1 / s),
  );
  const scaled = g.op('Div', [x, g.scalar(g.fresh('c255'), 255)]);
  return g.op('Mul', [g.op('Sub', [scaled, mean]), invStd], {}, out);
}

/**
 * Patch scores [N·h·w] -> [N,1,H,W] map as anomalyMap computes it: each axis is one linear map
 * (upsampling, stretched or at the grid's stride, then the Gaussian with scipy's 'reflect'
 * border), so the map is Y · grid · Xᵀ: two MatMuls with small constant matrices.
 */
export interface MapNodeOptions {
  /** The patch grid. */
  grid: { h: number; w: number };
  /** The map's size: the graph's input. */
  size: { H: number; W: number };
  sigma: number;
  /** The map's stride (ModelConfig.mapStride); absent: stretched, as older models. */
  stride?: number;
  /** The output tensor's name. */
  out: string;
}

export function mapNodes(g: GraphBuilder, patch: string, { grid: { h, w }, size: { H, W }, sigma, stride, out }: MapNodeOptions): string {
  const grid = g.op('Reshape', [patch, g.ints(g.fresh('shape'), [-1, 1, h, w])]);
  const X = axisMatrix(w, W, sigma, stride); // W × w
  const Xt = new Float32Array(w * W);
  for (let o = 0; o < W; o++) for (let j = 0; j < w; j++) Xt[j * W + o] = X[o * w + j];
  const across = g.op('MatMul', [grid, g.init(g.fresh('map_x'), [w, W], Xt)]); // [N,1,h,W]
  return g.op('MatMul', [g.init(g.fresh('map_y'), [H, h], axisMatrix(h, H, sigma, stride)), across], {}, out); // [N,1,H,W]
}
