// Approximate greedy coreset (PatchCore): the plain reference and the pieces it shares
// with the exact accelerated version in exact/greedy.ts.
import { Rng } from '../../util/rng.js';
import { dist2 } from '../distance.js';
import type { Matrix } from '../matrix.js';

/** `count` distinct random indices in [0, n) (official: np.random.choice(n, 10, replace=False)). */
export function pickStarts(n: number, seed: number, count = 10): Int32Array {
  const k = Math.min(count, n);
  const rng = new Rng(seed);
  const chosen = new Set<number>();
  const out = new Int32Array(k);
  for (let t = 0; t < k; ) {
    const i = rng.int(n);
    if (!chosen.has(i)) {
      chosen.add(i);
      out[t++] = i;
    }
  }
  return out;
}

/** Every `step`-th row from `from`: one thread's share of the points. */
export interface Stride {
  from: number;
  step: number;
}

/**
 * δ_i = mean over starts of ‖z_i − z_s‖, plus each of those distances (rows × starts), for
 * the points i = from, from + step, … < n (all of them by default), in that order.
 */
export function initialDelta(m: Matrix, starts: Int32Array, { from, step }: Stride = { from: 0, step: 1 }) {
  const { data: z, n, dim } = m;
  const S = starts.length;
  const rows = Math.max(0, Math.ceil((n - from) / step));
  const delta = new Float64Array(rows);
  const anchor = new Float64Array(rows * S);
  for (let l = 0, i = from; l < rows; l++, i += step) {
    let sum = 0;
    for (let s = 0; s < S; s++) {
      const d = Math.sqrt(dist2(z, i * dim, z, starts[s] * dim, dim));
      anchor[l * S + s] = d;
      sum += d;
    }
    delta[l] = sum / S;
  }
  return { delta, anchor };
}

/** The straightforward O(N·count·dim) reference. Ties in the argmax go to the lowest index. */
export function plainGreedyCoreset(m: Matrix, count: number, starts: Int32Array): Int32Array {
  const { data: z, n, dim } = m;
  const { delta } = initialDelta(m, starts);
  const out = new Int32Array(count);
  for (let t = 0; t < count; t++) {
    let c = 0;
    for (let i = 1; i < n; i++) if (delta[i] > delta[c]) c = i;
    out[t] = c;
    const co = c * dim;
    for (let i = 0; i < n; i++) {
      const d = Math.sqrt(dist2(z, i * dim, z, co, dim));
      if (d < delta[i]) delta[i] = d;
    }
  }
  return out;
}
