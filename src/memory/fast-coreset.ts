// Exact fast version of `plainGreedyCoreset`: same indices, same order. It only skips a
// distance when a bound proves that it cannot lower δ_i, with a slack (REL, epsY) far
// above float rounding (computed distances are accurate to ~1e-14), and it computes every
// other distance with the same kernel as the plain version, so all comparisons match.
//
// Large inputs run on two threads: the points are split by index parity between the main
// thread and one worker (coreset-worker.ts), each keeping its own groups and max-tree. Per
// center, both threads share the center-to-group distances (each computes half of them),
// then update their own points; the main thread takes the larger of the two maxima. Each
// point's δ goes through exactly the same operations as on one thread.
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { dist2, dist2Bounded } from './distance.js';
import { initialDelta } from './coreset.js';
import { MaxTree } from './max-tree.js';
import { Rng } from '../util/rng.js';

const REL = 1e-9;
/** Number of principal axes used for cheap lower bounds. */
const AXES = 16;
/** Below this n·count, one thread (starting a worker costs ~0.1 s). */
const THREAD_MIN_WORK = 2e8;
/** Window insertions between two sorts. */
const RESORT = 256;
/** A worker silent this long is given up on (the run then restarts on one thread). */
const STALL_MS = 60_000;

export interface GreedyCoresetOptions {
  /**
   * 1 or 2. Default: 2 for large inputs (n·count ≥ 2e8) when ≥ 1.5 cores are idle right
   * now (sampled over 50 ms): the two threads advance in lockstep, so on a machine whose
   * cores are busy with other work a second thread costs more than it brings.
   */
  threads?: number;
}

/**
 * Points live in groups, one per center (their closest so far), sketches copied contiguously
 * and sorted by δ descending. A new center c visits only groups g with ‖c−g‖ < 2·max δ(g)
 * (a window on the first principal axis, then partial sketch distances, see Part), and in
 * them only points with ‖c−g‖ < 2·δ_i whose sketch distance to c does not rule them out.
 * Points not yet covered by any center are bounded through the start points first:
 * ‖z_i − c‖ ≥ |d(i,s) − d(c,s)|.
 */
export function greedyCoreset(
  z: Float32Array, n: number, dim: number, count: number, starts: Int32Array,
  onProgress?: (done: number, total: number) => void, opts: GreedyCoresetOptions = {},
): Int32Array {
  const threads = opts.threads ?? (n * count >= THREAD_MIN_WORK && os.availableParallelism() >= 2 && idleCores(50) >= 1.5 ? 2 : 1);
  const geo = principalAxes(z, n, dim);
  if (threads >= 2 && n >= 2 && count >= 2) {
    const out = twoThreads(z, n, dim, count, starts, geo, onProgress);
    if (out) return out;
  }
  const sh = new Shared(count, false);
  const part = new Part(z, n, dim, count, starts, geo, 0, 1, sh);
  const out = new Int32Array(count);
  const every = Math.max(1, Math.floor(count / 100));
  for (let t = 0; t < count; t++) {
    const c = part.tree.bestIndex;
    out[t] = c;
    part.phase1(t, c, part.tree.bestValue);
    part.phase2(t, c);
    if (onProgress && ((t + 1) % every === 0 || t + 1 === count)) onProgress(t + 1, count);
  }
  return out;
}

/** Cores idle over the next `ms` milliseconds (this thread sleeps meanwhile). */
function idleCores(ms: number): number {
  const idle = () => os.cpus().reduce((sum, c) => sum + c.times.idle, 0);
  const a = idle(), t = performance.now();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return (idle() - a) / Math.max(1, performance.now() - t);
}

/** Control words of the two-thread protocol (Int32 slots of Shared.ctrl). */
export const enum Ctl {
  Go = 0, // main → worker: iteration number + 1 (−1: stop)
  Center, // main → worker: the center index
  Ready, // worker → main: 1 once set up (its best is then published)
  WorkerPhase1, // worker → main: iteration + 1 when its half of the center-to-group distances is done
  MainPhase1, // main → worker: same for the main thread
  WorkerDone, // worker → main: iteration + 1 when its points are updated (0: ready after setup)
  WorkerBestIndex, // worker's best point index
  Failed, // worker → main: 1 when the worker threw
  Cand0, // number of candidate groups found by thread 0
  Cand1, // … by thread 1
  Size,
}

/** State seen by both threads. */
export class Shared {
  readonly ctrl: Int32Array;
  readonly f64: Float64Array; // [0]: worker's best δ; [1]: the center's δ (r)
  readonly gMax: Float64Array; // parts × count: δ of each part's group's first member
  readonly gMaxAx: Float64Array; // the same by window position (see Part.rebuild)
  readonly ccS: Float64Array; // per group: ‖c−g‖² of the current center when a candidate
  readonly cand: Int32Array; // 2 × count: candidate groups of the current center per thread
  readonly buffers: SharedArrayBuffer[] | ArrayBuffer[];

  constructor(count: number, shared: boolean, buffers?: SharedArrayBuffer[]) {
    const sizes = [Ctl.Size * 4, 2 * 8, 2 * count * 8, count * 8, 2 * count * 4, 2 * count * 8];
    const bufs = buffers ?? sizes.map((b) => (shared ? new SharedArrayBuffer(b) : new ArrayBuffer(b)));
    this.buffers = bufs as SharedArrayBuffer[];
    this.ctrl = new Int32Array(bufs[0]);
    this.f64 = new Float64Array(bufs[1]);
    this.gMax = new Float64Array(bufs[2]).fill(-Infinity);
    this.ccS = new Float64Array(bufs[3]);
    this.cand = new Int32Array(bufs[4]);
    this.gMaxAx = new Float64Array(bufs[5]).fill(-Infinity);
  }
}

export interface Geometry { axes: Float64Array; A: number; maxNorm: number }

/** Wait until ctrl[slot] === want (spinning briefly first); false when `failed` is raised or after `timeoutMs`. */
export function waitFor(ctrl: Int32Array, slot: number, want: number, timeoutMs = Infinity): boolean {
  for (let k = 0; k < 2000; k++) if (Atomics.load(ctrl, slot) === want) return true;
  const until = performance.now() + timeoutMs;
  for (;;) {
    const v = Atomics.load(ctrl, slot);
    if (v === want) return true;
    if (Atomics.load(ctrl, Ctl.Failed) !== 0 || performance.now() > until) return false;
    Atomics.wait(ctrl, slot, v, 100);
  }
}

export function signal(ctrl: Int32Array, slot: number, value: number): void {
  Atomics.store(ctrl, slot, value);
  Atomics.notify(ctrl, slot);
}

/** The main thread's side of the two-thread run; null when the worker fails (then run on one thread). */
function twoThreads(
  z: Float32Array, n: number, dim: number, count: number, starts: Int32Array, geo: Geometry,
  onProgress?: (done: number, total: number) => void,
): Int32Array | null {
  const sh = new Shared(count, true);
  let zs = z;
  if (!(z.buffer instanceof SharedArrayBuffer)) {
    zs = new Float32Array(new SharedArrayBuffer(n * dim * 4));
    zs.set(z.subarray(0, n * dim));
  }
  const file = new URL('./coreset-worker.js', import.meta.url);
  if (file.protocol !== 'file:' || !fs.existsSync(fileURLToPath(file))) return null; // e.g. run from .ts sources
  let worker: Worker;
  try {
    worker = new Worker(file, {
      workerData: { z: zs, n, dim, count, starts, geo, buffers: sh.buffers },
    });
  } catch {
    return null;
  }
  worker.unref();
  worker.on('error', () => signal(sh.ctrl, Ctl.Failed, 1)); // only seen once the main thread is idle
  const ctrl = sh.ctrl, f64 = sh.f64;
  try {
    const part = new Part(zs, n, dim, count, starts, geo, 0, 2, sh);
    if (!waitFor(ctrl, Ctl.Ready, 1, STALL_MS)) return null;
    const out = new Int32Array(count);
    const every = Math.max(1, Math.floor(count / 100));
    for (let t = 0; t < count; t++) {
      let c = part.tree.bestIndex, r = part.tree.bestValue;
      const wv = f64[0], wi = Atomics.load(ctrl, Ctl.WorkerBestIndex);
      if (wv > r || (wv === r && wi < c)) { c = wi; r = wv; }
      out[t] = c;
      f64[1] = r;
      Atomics.store(ctrl, Ctl.Center, c);
      signal(ctrl, Ctl.Go, t + 1);
      part.phase1(t, c, r);
      signal(ctrl, Ctl.MainPhase1, t + 1);
      if (!waitFor(ctrl, Ctl.WorkerPhase1, t + 1, STALL_MS)) return null;
      part.phase2(t, c);
      if (!waitFor(ctrl, Ctl.WorkerDone, t + 1, STALL_MS)) return null;
      if (onProgress && ((t + 1) % every === 0 || t + 1 === count)) onProgress(t + 1, count);
    }
    return out;
  } finally {
    signal(ctrl, Ctl.Go, -1);
    void worker.terminate();
  }
}

/**
 * The points i ≡ part (mod parts) with their groups, their max-tree and their share of the
 * center-to-group distances.
 *
 * Bounds use each point's sketch y(z) = (Pz, z − PᵀPz) (K + dim floats) for K orthonormal
 * principal axes P: ‖y(a) − y(b)‖ = ‖a − b‖, and partial sums over the leading, high-variance
 * coordinates are lower bounds that usually rule a point out early. Sketches are float32, so
 * they only prove ‖a−b‖ ≥ x up to epsY; δ itself is always the exact kernel value on z.
 */
export class Part {
  readonly tree: MaxTree;
  private readonly epsY: number;
  private readonly axes: Float64Array;
  private readonly nAxes: number;
  private YH: Float32Array; // sketch heads (K) of this part's points while in U, by local index
  private readonly yi: Float32Array; // a U point's full sketch, made when it moves
  private readonly yc: Float32Array; // sketch of the current center
  private readonly uIds: Int32Array;
  private readonly uDl: Float64Array;
  private readonly uAnc: Float64Array;
  private uSize: number;
  private readonly gIds: Int32Array[] = [];
  private readonly gDl: Float64Array[] = [];
  private readonly gH: Float32Array[] = []; // members' sketch heads, K floats each (dense, scanned first)
  private readonly gT: Float32Array[] = []; // members' sketch tails, dim floats each
  private readonly gSize: Int32Array;
  private readonly gHead: Int32Array; // first live member (all before it have moved on)
  private readonly gDead: Int32Array; // members that moved on (id −1), counted since the last compaction
  private readonly gMax: Float64Array; // this part's slice of sh.gMax
  // The window: groups by first sketch coordinate u of their center, sorted in [0, nSorted),
  // then the newest ones unsorted; re-sorted every RESORT insertions. Position k holds
  // group axG[k] with u = axU[k], center sketch head axH[k·K..], and gMaxAx[k].
  private readonly axU: Float64Array;
  private readonly axG: Int32Array;
  private readonly axH: Float32Array;
  private readonly pos: Int32Array; // group → position
  private readonly gMaxAx: Float64Array; // this part's slice of sh.gMaxAx
  private nAxis = 0;
  private nSorted = 0;
  private readonly cT: Float32Array; // sketch tail of each center
  private readonly dc: Float64Array;
  private readonly mv: Movers;
  private readonly S: number;
  private readonly scratch: Float64Array;

  constructor(
    private readonly z: Float32Array, n: number, private readonly dim: number, private readonly count: number,
    private readonly starts: Int32Array, geo: Geometry, private readonly part: number, private readonly parts: number,
    private readonly sh: Shared,
  ) {
    const L = geo.A + dim; // sketch length
    this.axes = geo.axes; this.nAxes = geo.A;
    // float32 rounding of two sketches is ≤ 2·2⁻²⁴·maxNorm; the rest (P's orthonormality,
    // double sums) is far smaller.
    this.epsY = 1e-6 * geo.maxNorm;
    const S = (this.S = starts.length);
    const init = initialDelta(z, n, dim, starts, part, parts);
    const m = init.delta.length;
    const K = geo.A;
    this.YH = new Float32Array(m * K);
    this.scratch = new Float64Array(dim);
    this.yc = new Float32Array(L);
    this.yi = new Float32Array(L);
    for (let l = 0; l < m; l++) {
      this.sketch((part + l * parts) * dim, this.yc, 0);
      copy(this.YH, l * K, this.yc, 0, K);
    }
    // U: points covered by no center yet (δ = mean start distance).
    this.uSize = m;
    this.uIds = Int32Array.from({ length: m }, (_, l) => part + l * parts);
    this.uDl = init.delta; this.uAnc = init.anchor;
    this.tree = new MaxTree(count + 1); // slot g < count: group g; slot `count`: U
    this.setU();
    this.gSize = new Int32Array(count);
    this.gHead = new Int32Array(count);
    this.gDead = new Int32Array(count);
    this.gMax = sh.gMax.subarray(part * count, (part + 1) * count);
    this.cT = new Float32Array(count * dim);
    this.axU = new Float64Array(count); this.axG = new Int32Array(count); this.axH = new Float32Array(count * K);
    this.pos = new Int32Array(count);
    this.gMaxAx = sh.gMaxAx.subarray(part * count, (part + 1) * count);
    this.dc = new Float64Array(S);
    this.mv = new Movers(K, dim);
  }

  /** out[oOff..+L] = y(z row at zOff): K projections, then the residual (in double, rounded once). */
  private sketch(zOff: number, out: Float32Array, oOff: number): void {
    const { z, dim, axes, nAxes: K } = this, res = this.scratch;
    for (let k = 0; k < dim; k++) res[k] = z[zOff + k];
    for (let r = 0; r < K; r++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += axes[r * dim + k] * z[zOff + k];
      out[oOff + r] = s;
      for (let k = 0; k < dim; k++) res[k] -= s * axes[r * dim + k];
    }
    for (let k = 0; k < dim; k++) out[oOff + K + k] = res[k];
  }

  /** Whether the sketches fail to prove ‖point − c‖² ≥ lim (head first, then the tail, stopping early). */
  private yBelow(h: Float32Array, ho: number, tl: Float32Array, to: number, lim: number): boolean {
    const yc = this.yc, K = this.nAxes;
    let s = 0;
    for (let k = 0; k < K; k++) { const d = h[ho + k] - yc[k]; s += d * d; }
    if (s >= lim) return false;
    return s + dist2Bounded(tl, to, yc, K, this.dim, lim - s) < lim;
  }

  private setU(): void {
    const [m, a] = maxOf(this.uIds, this.uDl, this.uSize);
    this.tree.set(this.count, m, a);
  }

  /**
   * Center t = point c (δ_c = r): record it and find the groups it may affect, with a lower
   * bound on ‖c−g‖ in sh.ccS; this thread handles every parts-th group of the window.
   */
  phase1(t: number, c: number, r: number): void {
    const { dim, sh, parts, part, yc, epsY, axU, axG, axH } = this, K = this.nAxes;
    this.sketch(c * dim, yc, 0);
    copy(this.cT, t * dim, yc, K, dim);
    const uc = yc[0], gMaxAx = sh.gMaxAx, count = this.count, cand = sh.cand, ccS = sh.ccS, cT = this.cT;
    const W = 2 * r * (1 + 4 * REL) + epsY; // every max δ(g) ≤ r
    let nc = 0;
    const visit = (k: number): void => {
      const gmax = parts === 1 ? gMaxAx[k] : Math.max(gMaxAx[k], gMaxAx[count + k]);
      if (gmax <= 0) return;
      const lim = sq(2 * gmax * (1 + 4 * REL) + epsY);
      let s = 0;
      for (let a = 0, o = k * K; a < K; a++) { const d = axH[o + a] - yc[a]; s += d * d; }
      if (s >= lim) return; // ‖c−g‖ ≥ 2·max δ(g): no member can get closer to c
      const g = axG[k];
      s += dist2Bounded(cT, g * dim, yc, K, dim, lim - s);
      if (s >= lim) return;
      ccS[g] = Math.max(0, Math.sqrt(s) - epsY);
      cand[part * count + nc++] = g;
    };
    const lo = lowerBound(axU, this.nSorted, uc - W);
    for (let k = lo + ((part - lo) & (parts - 1)); k < this.nSorted && axU[k] <= uc + W; k += parts) visit(k);
    for (let k = this.nSorted; k < this.nAxis; k++)
      if ((k & (parts - 1)) === part && Math.abs(axU[k] - uc) <= W) visit(k);
    sh.ctrl[Ctl.Cand0 + part] = nc;
  }

  /** Move this part's points that c is closer to than their δ into the new group t. */
  phase2(t: number, c: number): void {
    const { z, dim, sh, count, mv, gMax, tree, yc, epsY } = this;
    const co = c * dim, S = this.S;
    mv.size = 0;
    /** Exact plain-version test: does c lower δ of point `id`? If so, collect it. */
    const K = this.nAxes;
    const tryMove = (id: number, dj: number, h: Float32Array, tl: Float32Array, l: number): boolean => {
      if (!this.yBelow(h, l * K, tl, l * dim, sq(dj * (1 + REL) + epsY))) return false;
      const lim = sq(dj * (1 + REL));
      const s = dist2Bounded(z, id * dim, z, co, dim, lim);
      if (s >= lim) return false;
      const d = Math.sqrt(s);
      if (!(d < dj)) return false;
      mv.push(id, d, h, l * K, tl, l * dim);
      return true;
    };
    for (let q = 0; q < this.parts; q++) {
      const nc = sh.ctrl[Ctl.Cand0 + q];
      for (let e = 0; e < nc; e++) {
        const g = sh.cand[q * count + e], gmax = gMax[g], cg = sh.ccS[g]; // cg ≤ ‖c−g‖
        if (gmax <= 0 || cg >= 2 * gmax * (1 + 4 * REL)) continue;
        // A member with δ_i ≤ half has ‖z_i−c‖ ≥ ‖c−g‖ − δ_i ≥ δ_i; members are sorted, so stop there.
        const half = (cg * (1 - REL)) / (2 * (1 + REL));
        // Members that move are only marked (id −1); the group is compacted once half of it is dead.
        const ids = this.gIds[g], dl = this.gDl[g], hs = this.gH[g], ts = this.gT[g], size = this.gSize[g];
        let moved = 0;
        for (let j = this.gHead[g]; j < size && dl[j] > half; j++) {
          const id = ids[j];
          if (id >= 0 && tryMove(id, dl[j], hs, ts, j)) { ids[j] = -1; moved++; }
        }
        if (moved === 0) continue;
        let head = this.gHead[g];
        while (head < size && ids[head] < 0) head++;
        const dead = (this.gDead[g] += moved);
        if (2 * dead > size + 8) { // compact into right-sized arrays
          const left = size - dead;
          const nIds = new Int32Array(left), nDl = new Float64Array(left);
          const nH = new Float32Array(left * K), nT = new Float32Array(left * dim);
          for (let j = head, w = 0; j < size; j++) {
            if (ids[j] < 0) continue;
            nIds[w] = ids[j]; nDl[w] = dl[j];
            copy(nH, w * K, hs, j * K, K); copy(nT, w * dim, ts, j * dim, dim);
            w++;
          }
          this.gIds[g] = nIds; this.gDl[g] = nDl; this.gH[g] = nH; this.gT[g] = nT;
          this.gSize[g] = left; this.gDead[g] = 0; head = 0;
        }
        this.gHead[g] = head;
        const live = head < this.gSize[g];
        gMax[g] = this.gMaxAx[this.pos[g]] = live ? this.gDl[g][head] : -Infinity;
        tree.set(g, gMax[g], live ? this.gIds[g][head] : 0x7fffffff);
      }
    }

    if (this.uSize > 0) {
      const { uIds, uDl, uAnc, dc, starts, YH, yi, parts, part } = this;
      /** tryMove for U, whose points have no stored tail: bound by the head alone, sketch movers. */
      const tryMoveU = (i: number, dj: number, l: number): boolean => {
        const limY = sq(dj * (1 + REL) + epsY);
        let s = 0;
        for (let k = 0; k < K; k++) { const d = YH[l * K + k] - yc[k]; s += d * d; }
        if (s >= limY) return false;
        const lim = sq(dj * (1 + REL));
        const e = dist2Bounded(z, i * dim, z, co, dim, lim);
        if (e >= lim) return false;
        const d = Math.sqrt(e);
        if (!(d < dj)) return false;
        this.sketch(i * dim, yi, 0);
        mv.push(i, d, yi, 0, yi, K);
        return true;
      };
      let maxDc = 0;
      for (let s = 0; s < S; s++) maxDc = Math.max(maxDc, (dc[s] = Math.sqrt(dist2(z, co, z, starts[s] * dim, dim))));
      let w = 0;
      const uSize = this.uSize;
      for (let j = 0; j < uSize; j++) {
        const dj = uDl[j], i = uIds[j];
        let lb = -Infinity;
        for (let s = 0; s < S; s++) lb = Math.max(lb, Math.abs(uAnc[j * S + s] - dc[s]));
        // Start distances are ≤ S·δ_i (δ_i is their mean); the slack covers their rounding.
        if (lb < dj * (1 + REL * (1 + S)) + REL * maxDc && tryMoveU(i, dj, (i - part) / parts)) continue;
        if (w !== j) {
          uIds[w] = i; uDl[w] = dj;
          copy(uAnc, w * S, uAnc, j * S, S);
        }
        w++;
      }
      if (w !== uSize) { this.uSize = w; this.setU(); }
      if (w === 0) this.YH = new Float32Array(0);
    }
    this.addGroup(t);
  }

  /** The new group t: the points that moved to center t, sorted by (δ desc, index asc). */
  private addGroup(t: number): void {
    const { mv, dim } = this, K = this.nAxes;
    const m = mv.size;
    const order = Array.from({ length: m }, (_, k) => k).sort((a, b) => mv.dl[b] - mv.dl[a] || mv.ids[a] - mv.ids[b]);
    const ids = new Int32Array(m), dl = new Float64Array(m), hs = new Float32Array(m * K), ts = new Float32Array(m * dim);
    for (let k = 0; k < m; k++) {
      const o = order[k];
      ids[k] = mv.ids[o]; dl[k] = mv.dl[o];
      copy(hs, k * K, mv.h, o * K, K); copy(ts, k * dim, mv.t, o * dim, dim);
    }
    this.gIds.push(ids); this.gDl.push(dl); this.gH.push(hs); this.gT.push(ts);
    this.gSize[t] = m;
    if (m > 0) {
      this.gMax[t] = dl[0];
      this.tree.set(t, dl[0], ids[0]);
    }
    // With two threads, both list every group (same order), so that they share the window.
    if (m === 0 && this.parts === 1) return;
    const k = this.nAxis++;
    this.axU[k] = this.yc[0]; this.axG[k] = t; copy(this.axH, k * K, this.yc, 0, K);
    this.pos[t] = k; this.gMaxAx[k] = this.gMax[t];
    if (this.nAxis - this.nSorted >= RESORT) this.resort();
  }

  /** Sort the whole window by (u, group). */
  private resort(): void {
    const { axU, axG, axH, nAxis } = this, K = this.nAxes;
    const order = Int32Array.from({ length: nAxis }, (_, k) => k).sort((a, b) => axU[a] - axU[b] || axG[a] - axG[b]);
    const u = axU.slice(0, nAxis), g = axG.slice(0, nAxis), h = axH.slice(0, nAxis * K);
    for (let k = 0; k < nAxis; k++) {
      const o = order[k], grp = g[o];
      axU[k] = u[o]; axG[k] = grp; copy(axH, k * K, h, o * K, K);
      this.pos[grp] = k; this.gMaxAx[k] = this.gMax[grp];
    }
    this.nSorted = nAxis;
  }
}

/** Growable scratch for the points that move to the new center in one step. */
class Movers {
  size = 0;
  ids = new Int32Array(1024);
  dl = new Float64Array(1024);
  h: Float32Array;
  t: Float32Array;
  constructor(private K: number, private T: number) {
    this.h = new Float32Array(1024 * K);
    this.t = new Float32Array(1024 * T);
  }
  push(id: number, d: number, h: Float32Array, ho: number, t: Float32Array, to: number): void {
    if (this.size === this.ids.length) {
      const grow = <A extends Int32Array | Float64Array | Float32Array>(a: A, len: number): A => {
        const b = new (a.constructor as new (n: number) => A)(len); b.set(a); return b;
      };
      this.ids = grow(this.ids, this.size * 2); this.dl = grow(this.dl, this.size * 2);
      this.h = grow(this.h, this.size * 2 * this.K); this.t = grow(this.t, this.size * 2 * this.T);
    }
    this.ids[this.size] = id; this.dl[this.size] = d;
    copy(this.h, this.size * this.K, h, ho, this.K);
    copy(this.t, this.size * this.T, t, to, this.T);
    this.size++;
  }
}

/**
 * Up to AXES orthonormal directions of largest variance (subspace iteration on a row
 * sample, Gram–Schmidt in double), and the largest row norm. Only orthonormality matters
 * for correctness; how well they match the true principal axes only affects speed.
 */
function principalAxes(z: Float32Array, n: number, dim: number): Geometry {
  const A = Math.min(AXES, dim), zero = new Float32Array(dim);
  let maxNorm = 0;
  for (let i = 0; i < n; i++) maxNorm = Math.max(maxNorm, Math.sqrt(dist2(z, i * dim, zero, 0, dim)));
  const step = Math.max(1, Math.floor(n / 4096)), mean = new Float64Array(dim), x = new Float64Array(dim);
  let m = 0;
  for (let i = 0; i < n; i += step, m++) for (let k = 0; k < dim; k++) mean[k] += z[i * dim + k];
  for (let k = 0; k < dim; k++) mean[k] /= m;
  const C = new Float64Array(dim * dim); // sample covariance (unnormalised)
  for (let i = 0; i < n; i += step) {
    for (let k = 0; k < dim; k++) x[k] = z[i * dim + k] - mean[k];
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) C[a * dim + b] += x[a] * x[b];
  }
  const rng = new Rng(1);
  let Q = Float64Array.from({ length: A * dim }, () => rng.normal()); // A rows of length dim
  orthonormalize(Q, A, dim);
  for (let it = 0; it < 15; it++) {
    const next = new Float64Array(A * dim);
    for (let r = 0; r < A; r++)
      for (let a = 0; a < dim; a++) {
        let s = 0;
        for (let b = 0; b < dim; b++) s += C[a * dim + b] * Q[r * dim + b];
        next[r * dim + a] = s;
      }
    orthonormalize(next, A, dim);
    Q = next;
  }
  return { axes: Q, A, maxNorm };
}

/** Modified Gram–Schmidt, applied twice for orthogonality to ~1e-16; degenerate rows become random. */
function orthonormalize(Q: Float64Array, rows: number, dim: number): void {
  const rng = new Rng(2);
  for (let pass = 0; pass < 2; pass++)
    for (let r = 0; r < rows; r++) {
      const v = Q.subarray(r * dim, (r + 1) * dim);
      for (let q = 0; q < r; q++) {
        const u = Q.subarray(q * dim, (q + 1) * dim);
        let d = 0;
        for (let k = 0; k < dim; k++) d += u[k] * v[k];
        for (let k = 0; k < dim; k++) v[k] -= d * u[k];
      }
      const norm = Math.hypot(...v);
      if (norm > 1e-8) for (let k = 0; k < dim; k++) v[k] /= norm;
      else { for (let k = 0; k < dim; k++) v[k] = rng.normal(); r--; } // redo this row
    }
}

/** Max δ of a member list and the lowest point index holding it (−∞ when empty). */
function maxOf(ids: Int32Array, dl: Float64Array, size: number): [number, number] {
  let m = -Infinity, a = 0x7fffffff;
  for (let j = 0; j < size; j++) {
    const v = dl[j];
    if (v > m || (v === m && ids[j] < a)) { m = v; a = ids[j]; }
  }
  return [m, a];
}

/** First k in [0, len) with a[k] ≥ x (a sorted ascending). */
function lowerBound(a: Float64Array, len: number, x: number): number {
  let lo = 0, hi = len;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid] < x) lo = mid + 1; else hi = mid; }
  return lo;
}

/** A short copy without the per-call cost of TypedArray.set / copyWithin. */
function copy<T extends Float32Array | Float64Array>(dst: T, dOff: number, src: T, sOff: number, len: number): void {
  for (let k = 0; k < len; k++) dst[dOff + k] = src[sOff + k];
}

function sq(x: number): number {
  return x * x;
}
