// Exact k-nearest-neighbour search with a lower-bound pre-filter.
//
// For an orthonormal basis V (d × D, d ≪ D) of the bank's leading principal subspace,
// ‖Vᵀ(q − b)‖ ≤ ‖q − b‖ for every pair: the projected distance is a lower bound of the true one.
// One ONNX Runtime graph projects the queries and ranks the bank by that bound (a d-dim Gemm +
// TopK, D/d times less work than the full-dim ranking in nn.ts); then each query's candidates
// get their true distance in float64, in bound order, until the k-th best true distance is at or
// below the next bound: no row left can be nearer. Queries whose candidates run out are ranked
// again with four times as many, and at the last resort against every bank row.
//
// The bound is computed in float32, so a row is ruled out only when its bound exceeds the k-th
// best by a margin (BOUND_SLACK of the squared norms, far above float32's rounding there).
// Ties in true distance go to the lower bank row, as in nn.ts.
import type { MemoryBank } from '../types.js';
import { GraphBuilder } from '../onnx/builder.js';
import { createSession, ort, type Device } from '../onnx/session.js';
import { rankNodes, type BankTile, type SearchResult } from './knn-graph.js';
import { principalBasis } from './principal-basis.js';
import { dist2, dist2Bounded } from '../memory/distance.js';

export interface BoundOptions {
  device?: Device;
  threads?: number;
  /** Dimensions of the projection. */
  dims?: number;
  /** Candidates ranked per query on the first pass. */
  candidates?: number;
  tileRows?: number;
}

export const DEFAULT_BOUND_DIMS = 128;
const DEFAULT_CANDIDATES = 16;
const DEFAULT_TILE = 8192;
const QUERY_ROWS = 1024;
/** Relative float32 error allowed for in the squared bound (ORT's d-term sums err ~1e-7 of it). */
const BOUND_SLACK = 1e-5;

interface Ranked {
  /** rows × c squared lower bounds, ascending per row. */
  bound: Float32Array;
  index: Int32Array;
  /** ‖Vᵀ(q − mean)‖² per row. */
  norm: Float32Array;
}

export class BoundedSearch {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly bank: MemoryBank,
    /** Largest candidate count one graph run can return: its smallest bank tile. */
    private readonly maxCandidates: number,
    private readonly candidates: number,
    /** Largest ‖Vᵀ(b − mean)‖² over the bank. */
    private readonly maxBankNorm: number,
  ) {}

  static async create(bank: MemoryBank, opts: BoundOptions = {}): Promise<BoundedSearch> {
    const dims = Math.min(opts.dims ?? DEFAULT_BOUND_DIMS, bank.dim);
    const basis = await principalBasis(bank, dims);
    const { D, V, centre } = projectionInit(basis.rows, basis.mean, dims, bank.dim);
    const projected = await project(bank, V, centre, dims, opts);
    const tiles = Math.ceil(bank.size / (opts.tileRows ?? DEFAULT_TILE));
    const tileSize = Math.ceil(bank.size / tiles);
    const { bytes, minTile, maxNorm } = searchGraph(projected, bank.size, dims, D, V, centre, tileSize);
    const session = await createSession(bytes, { device: opts.device, threads: opts.threads });
    return new BoundedSearch(session, bank, minTile, opts.candidates ?? DEFAULT_CANDIDATES, maxNorm);
  }

  /** k nearest bank rows of each of n queries (n × dim), ascending true distance. */
  async search(queries: Float32Array, n: number, k: number): Promise<SearchResult> {
    const { bank } = this;
    const D = bank.dim;
    if (queries.length !== n * D) throw new Error(`search: ${queries.length} values for ${n}×${D} queries`);
    if (!Number.isInteger(k) || k < 1 || k > bank.size) throw new Error(`search: k ${k} for a bank of ${bank.size}`);
    const index = new Int32Array(n * k),
      dist = new Float32Array(n * k);
    const best = new Float64Array(k),
      bestRow = new Int32Array(k);
    let pending = Int32Array.from({ length: n }, (_, i) => i);
    let c = Math.min(this.maxCandidates, Math.max(this.candidates, 2 * k));
    while (pending.length > 0) {
      const rows = pending.length === n ? queries : gatherRows(queries, pending, D);
      const ranked = await this.rank(rows, pending.length, c);
      const next: number[] = [];
      for (let i = 0; i < pending.length; i++) {
        const p = pending[i];
        const all = c === bank.size;
        if (this.settle(queries, p, ranked, i, c, k, all, best, bestRow)) write(p, k, best, bestRow, index, dist);
        else if (c === this.maxCandidates) {
          bruteForce(queries, p, bank, k, best, bestRow); // candidates capped by the tile size: every row
          write(p, k, best, bestRow, index, dist);
        } else next.push(p);
      }
      pending = Int32Array.from(next);
      c = Math.min(this.maxCandidates, c * 4);
    }
    return { index, dist };
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private async rank(rows: Float32Array, n: number, c: number): Promise<Ranked> {
    const D = this.bank.dim;
    const bound = new Float32Array(n * c),
      index = new Int32Array(n * c),
      norm = new Float32Array(n);
    const C = new ort.Tensor('int64', BigInt64Array.of(BigInt(c)), [1]);
    for (let start = 0; start < n; start += QUERY_ROWS) {
      const r = Math.min(QUERY_ROWS, n - start);
      const out = await this.session.run({ Q: new ort.Tensor('float32', rows.subarray(start * D, (start + r) * D), [r, D]), C });
      bound.set(out.bound.data as Float32Array, start * c);
      index.set(out.index.data as Int32Array, start * c);
      norm.set(out.norm.data as Float32Array, start);
    }
    return { bound, index, norm };
  }

  /**
   * Query p's k nearest from its c candidates (row i of `ranked`), into best/bestRow; false when a
   * row outside the candidates could still be nearer. `all`: the candidates are the whole bank.
   */
  private settle(
    queries: Float32Array,
    p: number,
    ranked: Ranked,
    i: number,
    c: number,
    k: number,
    all: boolean,
    best: Float64Array,
    bestRow: Int32Array,
  ): boolean {
    best.fill(Infinity);
    bestRow.fill(-1);
    const slack = BOUND_SLACK * (ranked.norm[i] + this.maxBankNorm);
    const o = i * c;
    for (let j = 0; j < c; j++) {
      if (best[k - 1] <= ranked.bound[o + j] - slack) return true;
      const m = ranked.index[o + j];
      const d2 = squaredDistanceBelow(queries, p, this.bank, m, best[k - 1]);
      if (d2 < best[k - 1] || (d2 === best[k - 1] && m < bestRow[k - 1])) insert(best, bestRow, d2, m);
    }
    return all || best[k - 1] <= ranked.bound[o + c - 1] - slack;
  }
}

/**
 * Squared distance of query row q and bank row m in float64 (memory/distance.ts, four lanes), or
 * a partial sum ≥ `limit` once it gets there: the sums only grow, so that row cannot be nearer.
 * A result equal to the limit is summed in full, since it decides a tie.
 */
export function squaredDistanceBelow(queries: Float32Array, q: number, bank: MemoryBank, m: number, limit: number): number {
  const D = bank.dim;
  const s = dist2Bounded(queries, q * D, bank.data, m * D, D, limit);
  return s === limit ? dist2(queries, q * D, bank.data, m * D, D) : s;
}

/** Insert (d2, m) into the ascending top-k lists, dropping the last. */
function insert(best: Float64Array, bestRow: Int32Array, d2: number, m: number): void {
  let t = best.length - 1;
  while (t > 0 && (best[t - 1] > d2 || (best[t - 1] === d2 && bestRow[t - 1] > m))) {
    best[t] = best[t - 1];
    bestRow[t] = bestRow[t - 1];
    t--;
  }
  best[t] = d2;
  bestRow[t] = m;
}

function bruteForce(queries: Float32Array, p: number, bank: MemoryBank, k: number, best: Float64Array, bestRow: Int32Array): void {
  best.fill(Infinity);
  bestRow.fill(-1);
  for (let m = 0; m < bank.size; m++) {
    const d2 = squaredDistanceBelow(queries, p, bank, m, best[k - 1]);
    if (d2 < best[k - 1] || (d2 === best[k - 1] && m < bestRow[k - 1])) insert(best, bestRow, d2, m);
  }
}

function write(p: number, k: number, best: Float64Array, bestRow: Int32Array, index: Int32Array, dist: Float32Array): void {
  for (let j = 0; j < k; j++) {
    index[p * k + j] = bestRow[j];
    dist[p * k + j] = Math.sqrt(best[j]);
  }
}

function gatherRows(queries: Float32Array, rows: Int32Array, D: number): Float32Array {
  const out = new Float32Array(rows.length * D);
  rows.forEach((p, i) => out.set(queries.subarray(p * D, (p + 1) * D), i * D));
  return out;
}

/** V as the [D, d] matrix a MatMul takes, and the centre's projection meanᵀV [1, d]. */
function projectionInit(rows: Float64Array, mean: Float64Array, d: number, D: number): { D: number; V: Float32Array; centre: Float32Array } {
  const V = new Float32Array(D * d);
  const centre = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) {
      V[j * d + i] = rows[i * D + j];
      s += mean[j] * rows[i * D + j];
    }
    centre[i] = s;
  }
  return { D, V, centre };
}

/** Q·V − meanᵀV as nodes: the queries' coordinates in the basis, around the bank's mean. */
function projectNodes(g: GraphBuilder, Q: string, V: Float32Array, centre: Float32Array, d: number, D: number): string {
  return g.op('Sub', [g.op('MatMul', [Q, g.init('V', [D, d], V)]), g.init('centre', [1, d], centre)]);
}

/** The bank's coordinates, computed by the same nodes the queries' go through. */
async function project(bank: MemoryBank, V: Float32Array, centre: Float32Array, d: number, opts: BoundOptions): Promise<Float32Array> {
  const g = new GraphBuilder('project');
  const X = g.input('X', ['N', bank.dim]);
  g.op('Identity', [projectNodes(g, X, V, centre, d, bank.dim)], {}, 'P');
  g.output('P', ['N', d]);
  const s = await createSession(g.toBytes(), { device: opts.device, threads: opts.threads });
  try {
    return (await s.run({ X: new ort.Tensor('float32', bank.data, [bank.size, bank.dim]) })).P.data as Float32Array;
  } finally {
    await s.release();
  }
}

function searchGraph(
  projected: Float32Array,
  M: number,
  d: number,
  D: number,
  V: Float32Array,
  centre: Float32Array,
  tileSize: number,
): { bytes: Uint8Array; minTile: number; maxNorm: number } {
  const g = new GraphBuilder('knn-bound');
  const Q = g.input('Q', ['N', D]);
  const C = g.input('C', [1], 'int64');
  const P = projectNodes(g, Q, V, centre, d, D);
  const tiles: BankTile[] = [];
  let minTile = M,
    maxNorm = 0;
  for (let start = 0; start < M; start += tileSize) {
    const rows = Math.min(tileSize, M - start);
    minTile = Math.min(minTile, rows);
    const norms = new Float32Array(rows);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0, o = (start + i) * d; j < d; j++) s += projected[o + j] * projected[o + j];
      norms[i] = s;
      maxNorm = Math.max(maxNorm, s);
    }
    const B = g.init(g.fresh('B'), [rows, d], projected.subarray(start * d, (start + rows) * d));
    tiles.push({ rows: B, norms: g.init(g.fresh('bnorm'), [1, rows], norms), start });
  }
  const { values, index } = rankNodes(g, P, tiles, C);
  const norm = g.op('ReduceSumSquare', [P], { axes: [1], keepdims: 1 });
  g.op('Add', [values, norm], {}, 'bound');
  g.op('Cast', [index], { to: 6 }, 'index'); // int32: no BigInt per candidate on the JS side
  g.op('Reshape', [norm, g.ints('flat', [-1])], {}, 'norm');
  g.output('bound', ['N', 'c']);
  g.output('index', ['N', 'c'], 'int32');
  g.output('norm', ['N']);
  return { bytes: g.toBytes(), minTile, maxNorm };
}
