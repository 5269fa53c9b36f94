// Patch aggregation as ONNX nodes, the same arithmetic as aggregate.ts (its plain reference, tested
// equal): the exported graph inlines them, and fit and predict run them as a small session after the
// backbone, where ONNX Runtime's pooling, resize and transpose take a third of the JS kernel's time
// (2745 patches × 1056 dims at 384 px: 8 vs 20 ms).
import type { FeatureMaps, PatchFeatures } from '../types.js';
import { GraphBuilder } from '../onnx/builder.js';
import { createSession, ort } from '../onnx/session.js';
import { poolWindow } from './aggregate.js';

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

/** Grid shapes whose sessions are kept: a model sees one or a few image sizes. */
const KEEP = 4;

/**
 * aggregate() run by ONNX Runtime, one small session per grid shape (the most recently used are
 * kept). Runs and releases go one at a time: onnxruntime-node runs them on the main thread anyway,
 * the page's WebGPU build refuses a run that starts while another is pending, and so no session is
 * ever released under a run.
 */
export class GraphAggregator {
  /** By grid shape, in order of last use. */
  private sessions = new Map<string, Promise<ort.InferenceSession>>();
  private queue: Promise<unknown> = Promise.resolve();
  constructor(readonly dim: number) {}

  aggregate(maps: FeatureMaps): Promise<PatchFeatures> {
    return this.enqueue(() => this.run(maps));
  }

  /** Free the sessions (fit calls it with the backbone's release); the next call starts them again. */
  release(): Promise<void> {
    return this.enqueue(async () => {
      const all = [...this.sessions.values()];
      this.sessions.clear();
      await Promise.all(all.map(free));
    });
  }

  /** Sessions alive (for tests: eviction must bound it). */
  get size(): number {
    return this.sessions.size;
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const done = this.queue.then(job);
    this.queue = done.catch(() => undefined);
    return done;
  }

  private async run(maps: FeatureMaps): Promise<PatchFeatures> {
    const [, c1, h, w] = maps.shallow.dims;
    const [, c2, dh, dw] = maps.deep.dims;
    const full = c1 + c2;
    const dim = this.dim > 0 && this.dim < full ? this.dim : full;
    const key = [c1, h, w, c2, dh, dw].join(',');
    const session = this.sessions.get(key) ?? createSession(headGraph({ c1, c2, h, w, dh, dw }, dim), { device: 'cpu' });
    this.sessions.delete(key); // re-inserted last: the map's order is the order of use
    this.sessions.set(key, session);
    if (this.sessions.size > KEEP) {
      const [oldest, s] = this.sessions.entries().next().value!;
      this.sessions.delete(oldest);
      void free(s);
    }
    const s = await session.catch((err: unknown) => {
      this.sessions.delete(key); // the next call tries again
      throw err;
    });
    const out = await s.run({
      shallow: new ort.Tensor('float32', maps.shallow.data, maps.shallow.dims),
      deep: new ort.Tensor('float32', maps.deep.data, maps.deep.dims),
    });
    return { gridH: h, gridW: w, dim, count: h * w, data: out.rows.data as Float32Array };
  }
}

/** Release a session; a failure to release is not the caller's failure. */
function free(session: Promise<ort.InferenceSession>): Promise<void> {
  return session.then((s) => s.release()).catch(() => undefined);
}

function headGraph(grid: FeatureGrid, dim: number): Uint8Array {
  const g = new GraphBuilder('aggregate');
  const shallow = g.input('shallow', [1, grid.c1, grid.h, grid.w]);
  const deep = g.input('deep', [1, grid.c2, grid.dh, grid.dw]);
  g.op('Identity', [aggregateNodes(g, shallow, deep, grid, dim)], {}, 'rows');
  g.output('rows', [grid.h * grid.w, dim]);
  return g.toBytes();
}
