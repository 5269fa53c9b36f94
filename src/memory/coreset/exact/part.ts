// One thread's share of the exact greedy: the points i ≡ part (mod parts), split into the
// unassigned set U and the groups, with a max-tree over their δ (slot g < count: group g's
// first member; slot `count`: U's best) that yields the next center.
import { Groups } from './groups.js';
import { Probe } from './probe.js';
import type { Board } from './board.js';
import { Unassigned } from './unassigned.js';
import { Window } from './window.js';
import { MaxTree } from './max-tree.js';
import { Heads } from './principal-axes.js';
import type { ExactJob } from './job.js';

export class Part {
  readonly tree: MaxTree;
  private readonly H: Float32Array; // every point's head, K floats, by local index (id >> shift)
  private readonly shift: number;
  private readonly probe: Probe;
  private readonly u: Unassigned;
  private readonly groups: Groups;
  private readonly window: Window;
  private readonly scratch: Float64Array;
  private readonly heads: Heads;
  private readonly z: Float32Array;
  private readonly dim: number;
  private readonly count: number;

  constructor(
    job: ExactJob,
    part: number,
    private readonly parts: number,
    private readonly sh: Board,
  ) {
    const { rows, count, geo } = job,
      z = rows.data,
      dim = rows.dim;
    this.z = z;
    this.dim = dim;
    this.count = count;
    this.heads = new Heads(geo.axes, geo.A, dim);
    const K = geo.A;
    this.shift = parts === 2 ? 1 : 0; // local index of point id: id >> shift (parts is 1 or 2)
    // float32 rounding of heads is ≤ 2·2⁻²⁴·maxNorm and residual norms are within ~2e-7·maxNorm;
    // P's orthonormality and the double sums add far less.
    const eps = 1e-5 * geo.maxNorm;
    this.u = new Unassigned(job, part, parts);
    const m = this.u.size;
    this.H = new Float32Array(m * K);
    const rho = new Float64Array(m);
    for (let l = 0; l < m; l++) rho[l] = this.heads.of(z, (part + l * parts) * dim, this.H, l * K);
    this.probe = new Probe(rows, { K, eps, rho, shift: this.shift });
    this.tree = new MaxTree(count + 1);
    this.groups = new Groups(count, K, sh.gMax.subarray(part * count, (part + 1) * count), this.tree);
    this.window = new Window({ count, K, dim, eps }, sh, part, this.groups.gMax);
    this.scratch = new Float64Array(dim);
    this.setU();
  }

  /** Exact distances computed so far (the work this part did). */
  get distances(): number {
    return this.probe.distances;
  }

  /** Work units so far: points tested, exact distances (8 each) and window groups checked (2 each). */
  get work(): number {
    return this.probe.tests + 8 * this.probe.distances + 2 * this.window.visits;
  }

  private setU(): void {
    const [m, a] = this.u.best();
    this.tree.set(this.count, m, a);
  }

  /** Center t = point c (δ_c = r): sketch it and find the groups it may affect (shared by both threads). */
  phase1(t: number, c: number, r: number): void {
    const { probe, dim } = this;
    probe.rhoC = this.heads.sketch(this.z, c * dim, probe.yc, this.scratch);
    probe.co = c * dim;
    this.window.candidates(t, probe.yc, r);
  }

  /** Move this part's points that c is closer to than their δ into the new group t. */
  phase2(t: number, c: number): void {
    const { sh, count, probe, groups, window } = this;
    probe.mv.size = 0;
    for (let q = 0; q < this.parts; q++) {
      const nc = sh.nCand[q];
      for (let e = 0; e < nc; e++) {
        const g = sh.cand[q * count + e];
        if (groups.visit(g, sh.ccS[g], probe)) window.setMax(g, groups.gMax[g]);
      }
    }
    if (this.u.size > 0 && this.u.visit(c, probe, this.H)) this.setU();
    groups.add(t, probe.mv, this.H, this.shift);
    // With two threads, both list every group (same order), so that they share the window.
    if (probe.mv.size > 0 || this.parts > 1) window.add(t, probe.yc);
  }
}
