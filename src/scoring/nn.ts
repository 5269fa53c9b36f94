// Exact k-nearest-neighbour search against the memory bank, as one ONNX Runtime graph.
//
// Per bank tile t:  e = -2·Q·B_tᵀ + ‖b‖²   (one Gemm; ‖q‖² is constant per row, so it is
// left out of the ranking and added only to the k survivors), TopK(k, smallest).
// Tiles are merged with a second TopK over the n × (tiles·k) candidates. Then
// d = sqrt(max(0, e + ‖q‖²)). k is a graph input, so one session serves every k.
//
// Precision: the expansion cancels catastrophically for near-duplicates (d² ≪ ‖q‖²+‖b‖²):
// float32 error in d² grows with ‖q‖‖b‖ (measured: D=1536, ‖b‖² ≈ 2000, exact duplicates give d up to 0.06, not 0),
// and the clamp only stops negatives. By default `search` therefore recomputes the k returned
// distances directly in float64 (k·D per query: ~1–2 ms for 784 queries at k=1, ~12 ms at k=9) and re-sorts
// each row; the ranking itself still comes from the expansion, so two bank points whose d²
// differ by less than that error may be ranked against each other.
//
// That is `searchPlain`, the reference. `search` (exact) ranks by true float64 distances through
// a lower-bound pre-filter instead (nn-bound.ts), built on first use when the bank is wide enough
// for it to pay: ~5× fewer multiply-adds at 1,056 dims.
import type { MemoryBank } from '../types.js';
import { GraphBuilder } from '../onnx/builder.js';
import { rankInRuns, rankNodes, type BankTile, type SearchResult } from './knn-graph.js';
import { createSession, ort, type Device } from '../onnx/session.js';
import { invalid, UserError } from '../util/errors.js';
import { BoundedSearch, DEFAULT_BOUND_DIMS } from './nn-bound.js';

export interface NearestOptions {
  device?: Device;
  threads?: number;
  /** Bank rows per Gemm tile; bounds the n×tile scratch matrix. */
  tileRows?: number;
  /** Dimensions of the pre-filter's projection; 0 ranks every query by the full-dim expansion. */
  boundDims?: number;
}

export type { SearchResult };

const DEFAULT_TILE = 8192;
/**
 * Query rows per graph run: the Gemm scratch is rows × tile floats per tile (ORT may hold every
 * tile's at once), so a whole image at 724 px (7,921 patches) against a 25k bank took ~1 GB.
 */
const QUERY_ROWS = 1024;

export class NearestNeighbours {
  private bounded?: Promise<BoundedSearch>;
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly bank: MemoryBank,
    /** Largest k the graph accepts: the size of its smallest bank tile. */
    readonly maxK: number,
    private readonly opts: NearestOptions,
  ) {}

  static async create(bank: MemoryBank, opts: NearestOptions = {}): Promise<NearestNeighbours> {
    if (bank.size < 1) throw new UserError('memory bank is empty');
    const tiles = Math.ceil(bank.size / (opts.tileRows ?? DEFAULT_TILE));
    const tileSize = Math.ceil(bank.size / tiles);
    const { bytes, minTile } = buildGraph(bank, tileSize);
    const session = await createSession(bytes, { device: opts.device, threads: opts.threads });
    return new NearestNeighbours(session, bank, minTile, opts);
  }

  /** Whether exact searches go through the lower-bound pre-filter (a projection of half the dims or fewer). */
  get usesBound(): boolean {
    const d = this.opts.boundDims ?? DEFAULT_BOUND_DIMS;
    return d > 0 && 2 * d <= this.bank.dim && this.bank.size > 4 * d;
  }

  /**
   * k nearest bank rows of each of n query rows (n×dim). With `exact` (default) the ranking and
   * distances are the true float64 ones (the pre-filter, or `searchPlain` where it does not pay);
   * without it, the Gemm expansion's ranking and distances.
   */
  async search(queries: Float32Array, n: number, k: number, exact = true): Promise<SearchResult> {
    if (!exact || !this.usesBound) return this.searchPlain(queries, n, k, exact);
    this.checkK(k);
    if (n === 0) return { index: new Int32Array(0), dist: new Float32Array(0) };
    const { device, threads, tileRows, boundDims: dims } = this.opts;
    this.bounded ??= BoundedSearch.create(this.bank, { device, threads, tileRows, dims });
    return (await this.bounded).search(queries, n, k);
  }

  /** The reference: rank by the Gemm expansion, then (`refine`) recompute the k distances in float64. */
  async searchPlain(queries: Float32Array, n: number, k: number, refine = true): Promise<SearchResult> {
    const D = this.bank.dim;
    if (queries.length !== n * D) throw new Error(`search: ${queries.length} values for ${n}×${D} queries`);
    this.checkK(k);
    const K = new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]);
    const { index, dist } = await rankInRuns(n, k, QUERY_ROWS, (start, rows) =>
      this.session.run({ Q: new ort.Tensor('float32', queries.subarray(start * D, (start + rows) * D), [rows, D]), K }),
    );
    if (refine) refineDistances(queries, this.bank, n, k, index, dist);
    return { index, dist };
  }

  private checkK(k: number): void {
    if (!Number.isInteger(k) || k < 1 || k > this.maxK) throw invalid('k', `an integer 1..${this.maxK} (the bank size)`, k);
  }

  async release(): Promise<void> {
    const bounded = this.bounded;
    this.bounded = undefined;
    await Promise.all([this.session.release(), bounded?.then((b) => b.release())]);
  }
}

/** Euclidean distance between query row q of `queries` and bank row m, in float64. */
export function distance(queries: Float32Array, q: number, bank: MemoryBank, m: number): number {
  const D = bank.dim;
  const a = q * D;
  const b = m * D;
  const data = bank.data;
  let s = 0;
  for (let j = 0; j < D; j++) {
    const t = queries[a + j] - data[b + j];
    s += t * t;
  }
  return Math.sqrt(s);
}

/** Replace the expansion distances by direct ones and restore ascending order per row. */
function refineDistances(queries: Float32Array, bank: MemoryBank, n: number, k: number, index: Int32Array, dist: Float32Array): void {
  for (let q = 0; q < n; q++) {
    const r = q * k;
    for (let j = 0; j < k; j++) dist[r + j] = distance(queries, q, bank, index[r + j]);
    // Insertion sort: k is small and the row is already nearly sorted.
    for (let j = 1; j < k; j++) {
      const d = dist[r + j];
      const i = index[r + j];
      let t = j - 1;
      while (t >= 0 && (dist[r + t] > d || (dist[r + t] === d && index[r + t] > i))) {
        dist[r + t + 1] = dist[r + t];
        index[r + t + 1] = index[r + t];
        t--;
      }
      dist[r + t + 1] = d;
      index[r + t + 1] = i;
    }
  }
}

function buildGraph(bank: MemoryBank, tileSize: number): { bytes: Uint8Array; minTile: number } {
  const { dim: D, size: M, data } = bank;
  const g = new GraphBuilder('knn');
  const Q = g.input('Q', ['N', D]);
  const K = g.input('K', [1], 'int64');
  const tiles: BankTile[] = [];
  let minTile = M;
  for (let start = 0; start < M; start += tileSize) {
    const rows = Math.min(tileSize, M - start);
    minTile = Math.min(minTile, rows);
    const B = g.init(g.fresh('B'), [rows, D], data.subarray(start * D, (start + rows) * D));
    const norms = new Float32Array(rows);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0, o = (start + i) * D; j < D; j++) s += data[o + j] * data[o + j];
      norms[i] = s;
    }
    tiles.push({ rows: B, norms: g.init(g.fresh('bnorm'), [1, rows], norms), start });
  }
  const { values: best, index } = rankNodes(g, Q, tiles, K);
  const qq = g.op('ReduceSumSquare', [Q], { axes: [1], keepdims: 1 });
  const d2 = g.op('Relu', [g.op('Add', [best, qq])]);
  g.op('Sqrt', [d2], {}, 'dist');
  g.op('Identity', [index], {}, 'index');
  g.output('dist', ['N', 'k']);
  g.output('index', ['N', 'k'], 'int64');
  return { bytes: g.toBytes(), minTile };
}

/**
 * N_b table: for every bank point its b nearest bank points, itself first (size×b).
 * Computed once at fit time; exact duplicates of a point are ranked after the point itself.
 */
export async function buildNeighbourTable(bank: MemoryBank, b: number, nn: NearestNeighbours, chunk = 784): Promise<Int32Array> {
  const { size, dim } = bank;
  if (b > size) throw invalid('b', `at most the memory bank size ${size}`, b);
  const table = new Int32Array(size * b);
  for (let start = 0; start < size; start += chunk) {
    const n = Math.min(chunk, size - start);
    const { index } = await nn.search(bank.data.subarray(start * dim, (start + n) * dim), n, b);
    for (let r = 0; r < n; r++) {
      const self = start + r;
      const row = index.subarray(r * b, (r + 1) * b);
      const at = row.indexOf(self);
      // Move self to the front (dropping the farthest if TopK missed it among duplicates).
      const from = at < 0 ? b - 1 : at;
      const o = (start + r) * b;
      table[o] = self;
      for (let j = 0, t = 1; j < b; j++) if (j !== from) table[o + t++] = row[j];
    }
  }
  return table;
}
