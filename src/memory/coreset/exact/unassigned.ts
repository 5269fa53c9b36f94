// Points of one part covered by no center yet. Their δ is still the mean distance to the
// start points (the plain version's initial value), so they belong to no group; instead each
// keeps its distances to the starts, which bound ‖z_i − c‖ ≥ |d(i,s) − d(c,s)| for every
// start s before the head test.
import { dist2 } from '../../distance.js';
import { initialDelta } from '../plain.js';
import { REL, type Probe } from './probe.js';
import { NO_INDEX } from './max-tree.js';
import type { ExactJob } from './job.js';

export class Unassigned {
  private readonly ids: Int32Array;
  private readonly dl: Float64Array;
  private readonly anc: Float64Array; // distances to the starts, S per point
  private readonly dc: Float64Array; // the center's distances to the starts
  private readonly z: Float32Array;
  private readonly dim: number;
  private readonly starts: Int32Array;
  private readonly K: number; // head length (the part's heads H hold K floats per point)
  private readonly shift: number; // local index of point id: id >> shift
  size: number;

  constructor({ rows, starts, geo }: ExactJob, part: number, parts: number) {
    this.z = rows.data;
    this.dim = rows.dim;
    this.starts = starts;
    this.K = geo.A;
    this.shift = parts === 2 ? 1 : 0;
    const init = initialDelta(rows, starts, { from: part, step: parts });
    const m = init.delta.length;
    this.ids = new Int32Array(m);
    for (let l = 0; l < m; l++) this.ids[l] = part + l * parts;
    this.dl = init.delta;
    this.anc = init.anchor;
    this.size = m;
    this.dc = new Float64Array(starts.length);
  }

  /** Move the points that the probe's center c lowers; returns whether any moved. */
  visit(c: number, probe: Probe, H: Float32Array): boolean {
    const { z, dim, starts, dc, ids, dl, anc, K, shift } = this,
      S = starts.length,
      co = c * dim;
    let maxDc = 0;
    for (let s = 0; s < S; s++) maxDc = Math.max(maxDc, (dc[s] = Math.sqrt(dist2(z, co, z, starts[s] * dim, dim))));
    let w = 0;
    const size = this.size;
    for (let j = 0; j < size; j++) {
      const dj = dl[j],
        i = ids[j];
      let lb = -Infinity;
      for (let s = 0; s < S; s++) lb = Math.max(lb, Math.abs(anc[j * S + s] - dc[s]));
      // Start distances are ≤ S·δ_i (δ_i is their mean); the slack covers their rounding.
      if (lb < dj * (1 + REL * (1 + S)) + REL * maxDc && probe.tryMove(i, dj, H, (i >> shift) * K)) continue;
      if (w !== j) {
        ids[w] = i;
        dl[w] = dj;
        for (let s = 0; s < S; s++) anc[w * S + s] = anc[j * S + s];
      }
      w++;
    }
    const changed = w !== size;
    this.size = w;
    return changed;
  }

  /** Max δ and the lowest point index holding it (an empty MaxTree slot's values when empty). */
  best(): [number, number] {
    let m = -Infinity,
      a = NO_INDEX;
    for (let j = 0; j < this.size; j++) {
      const v = this.dl[j];
      if (v > m || (v === m && this.ids[j] < a)) {
        m = v;
        a = this.ids[j];
      }
    }
    return [m, a];
  }
}
