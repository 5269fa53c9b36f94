// The foreground mask as graph nodes, mirroring src/foreground/mask.ts: the PCA side of each patch
// (f·axis − offset > cut, in float64 as pcaRaw computes it, so a cell near the cut falls on the same
// side), then closing and dilation on the patch grid by MaxPool, and the patch scores times the mask.
import type { GraphBuilder } from '../onnx/builder.js';
import type { ForegroundConfig } from '../foreground/mask.js';
import { UserError } from '../util/errors.js';

const FLOAT = 1;
const DOUBLE = 11;

/** The RGB-range mask is computed on the original image, which the graph never sees. */
export function checkExportable(fg: ForegroundConfig | undefined): void {
  if (fg?.mask === 'range')
    throw new UserError(
      `the model scores with the RGB-range foreground mask (--foreground ${fg.requested}), which is computed on the original image before the resize, and the ONNX graph only sees the resized input; refit with --foreground pca, auto or off to export`,
    );
}

/**
 * [N·P] float, 1 on the foreground cells and 0 on the background, from Q [N·P, D]; null when the
 * model scores every cell.
 */
export function foregroundNodes(g: GraphBuilder, Q: string, fg: ForegroundConfig | undefined, h: number, w: number): string | null {
  checkExportable(fg);
  if (!fg || fg.mask === 'none') return null;
  const m = fg.pca;
  if (!m) throw new Error('foreground: a pca mask without its axis');
  const axis = g.init(g.fresh('fg_axis'), [m.axis.length, 1], Float64Array.from(m.axis));
  const t = g.op('Sub', [g.op('MatMul', [g.op('Cast', [Q], { to: DOUBLE }), axis]), g.init(g.fresh('fg_offset'), [], Float64Array.of(m.offset))]);
  const raw = g.op('Cast', [g.op('Greater', [t, g.init(g.fresh('fg_cut'), [], Float64Array.of(m.cut))])], { to: FLOAT });
  const grid = g.op('Reshape', [raw, g.ints(g.fresh('shape'), [-1, 1, h, w])]);
  const closed = erode(g, dilate(g, grid, fg.close), fg.close);
  return g.op('Reshape', [dilate(g, closed, fg.dilate), g.ints(g.fresh('shape'), [-1])]);
}

/** Dilation by a (2r+1)² square: MaxPool ignores its padding, so cells outside the grid count as background. */
function dilate(g: GraphBuilder, x: string, r: number): string {
  if (r <= 0) return x;
  return g.op('MaxPool', [x], { kernel_shape: [2 * r + 1, 2 * r + 1], strides: [1, 1], pads: [r, r, r, r] });
}

/** Erosion as −dilate(−x): the minimum over the in-grid cells, so cells outside count as foreground. */
function erode(g: GraphBuilder, x: string, r: number): string {
  if (r <= 0) return x;
  return g.op('Neg', [dilate(g, g.op('Neg', [x]), r)]);
}
