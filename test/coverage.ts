// Shared by the coreset tests: how well a coreset covers its set.
import { dist2 } from '../src/memory/distance.js';

/** max_i min_{c∈coreset} ‖z_i − z_c‖ over the n rows of z (n×dim). */
export function coverage(z: Float32Array, n: number, dim: number, idx: Int32Array): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (const c of idx) best = Math.min(best, dist2(z, i * dim, z, c * dim, dim));
    worst = Math.max(worst, best);
  }
  return Math.sqrt(worst);
}
