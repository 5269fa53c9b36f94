// Which groups can a new center c affect? Only those with ‖c − g‖ < 2·max δ(g) (a member
// closer to g than half of ‖c − g‖ cannot get closer to c). Every max δ(g) is ≤ r = δ_c, so
// the candidates lie in a window |u(c) − u(g)| ≤ 2r on the first principal axis u: the
// centers are kept sorted by u (newest ones appended unsorted, re-sorted every RESORT), and
// within the window the bound is tightened with head and then tail sketch partial sums.
import { dist2Bounded } from '../../distance.js';
import { REL, headDist2, sq } from './probe.js';
import type { Board } from './board.js';

/** Window insertions between two sorts. */
const RESORT = 256;

export class Window {
  // Position k holds group axG[k] with u = axU[k], center head axH[k·K..], and gMaxAx[k].
  private readonly axU: Float64Array;
  private readonly axG: Int32Array;
  private readonly axH: Float32Array;
  private readonly pos: Int32Array; // group → position
  private readonly gMaxAx: Float64Array; // this part's slice of sh.gMaxAx
  private readonly cT: Float32Array; // sketch tail of each center, by group
  private nAxis = 0;
  private nSorted = 0;
  /** Groups whose bound was checked (the work done). */
  visits = 0;

  private readonly count: number;
  private readonly K: number;
  private readonly dim: number;
  private readonly eps: number;

  /** `size`: the run's centers, head length K, row width and slack eps (as the probe's). */
  constructor(
    size: { count: number; K: number; dim: number; eps: number },
    private readonly sh: Board,
    private readonly part: number,
    private readonly gMax: Float64Array,
  ) {
    const { count, K, dim } = size;
    this.count = count;
    this.K = K;
    this.dim = dim;
    this.eps = size.eps;
    this.axU = new Float64Array(count);
    this.axG = new Int32Array(count);
    this.axH = new Float32Array(count * K);
    this.pos = new Int32Array(count);
    this.gMaxAx = sh.gMaxAx.subarray(part * count, (part + 1) * count);
    this.cT = new Float32Array(count * dim);
  }

  /**
   * Center t with sketch yc and δ = r: list the groups it may affect in sh.cand with a lower
   * bound on ‖c − g‖ in sh.ccS; this thread handles every parts-th position of the window.
   */
  candidates(t: number, yc: Float32Array, r: number): void {
    const { dim, sh, part, eps, axU, axG, axH, count, cT } = this,
      K = this.K,
      parts = sh.parts;
    for (let k = 0; k < dim; k++) cT[t * dim + k] = yc[K + k];
    const uc = yc[0],
      gMaxAx = sh.gMaxAx,
      cand = sh.cand,
      ccS = sh.ccS;
    const W = 2 * r * (1 + 4 * REL) + eps; // every max δ(g) ≤ r
    let nc = 0;
    const visit = (k: number): void => {
      this.visits++;
      const gmax = parts === 1 ? gMaxAx[k] : Math.max(gMaxAx[k], gMaxAx[count + k]);
      if (gmax <= 0) return;
      const lim = sq(2 * gmax * (1 + 4 * REL) + eps);
      let s = headDist2(axH, k * K, yc, K, lim);
      if (s >= lim) return; // ‖c−g‖ ≥ 2·max δ(g): no member can get closer to c
      const g = axG[k];
      s += dist2Bounded(cT, g * dim, yc, K, dim, lim - s);
      if (s >= lim) return;
      ccS[g] = Math.max(0, Math.sqrt(s) - eps);
      cand[part * count + nc++] = g;
    };
    const lo = lowerBound(axU, this.nSorted, uc - W);
    for (let k = lo + ((part - lo) & (parts - 1)); k < this.nSorted && axU[k] <= uc + W; k += parts) visit(k);
    for (let k = this.nSorted; k < this.nAxis; k++) if ((k & (parts - 1)) === part && Math.abs(axU[k] - uc) <= W) visit(k);
    sh.nCand[part] = nc;
  }

  /** Group g's max δ changed (it is in the window). */
  setMax(g: number, v: number): void {
    this.gMaxAx[this.pos[g]] = v;
  }

  /** Add group t (center sketch yc) to the window. */
  add(t: number, yc: Float32Array): void {
    const k = this.nAxis++,
      K = this.K;
    this.axU[k] = yc[0];
    this.axG[k] = t;
    for (let a = 0; a < K; a++) this.axH[k * K + a] = yc[a];
    this.pos[t] = k;
    this.gMaxAx[k] = this.gMax[t];
    if (this.nAxis - this.nSorted >= RESORT) this.resort();
  }

  /** Sort the whole window by (u, group). */
  private resort(): void {
    const { axU, axG, axH, nAxis } = this,
      K = this.K;
    const order = new Int32Array(nAxis);
    for (let k = 0; k < nAxis; k++) order[k] = k;
    order.sort((a, b) => axU[a] - axU[b] || axG[a] - axG[b]);
    const u = axU.slice(0, nAxis),
      g = axG.slice(0, nAxis),
      h = axH.slice(0, nAxis * K);
    for (let k = 0; k < nAxis; k++) {
      const o = order[k],
        grp = g[o];
      axU[k] = u[o];
      axG[k] = grp;
      for (let a = 0; a < K; a++) axH[k * K + a] = h[o * K + a];
      this.pos[grp] = k;
      this.gMaxAx[k] = this.gMax[grp];
    }
    this.nSorted = nAxis;
  }
}

/** First k in [0, len) with a[k] ≥ x (a sorted ascending). */
function lowerBound(a: Float64Array, len: number, x: number): number {
  let lo = 0,
    hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
