// Composable greedy k-center coreset (Malkomes et al., NeurIPS 2015: greedy on parts, then greedy
// on the union of their centers). For sets where the exact greedy is too slow: its cost is set by
// n and count (≈ 600 distances per row, see PAIRS_PER_ROW) no matter how the data look, because
// every step is the plain update (no bound to prune with), done by the SIMD kernel (simd.ts).
//
//   1. chunks: the rows in blocks of `chunkRows`; each block keeps its share of f·count centers,
//      by the official greedy (10 random starts, δ = their mean distance, argmax updates);
//   2. final: the same greedy picks `count` of the union.
// f (the union factor) is as large as pairBudget allows, up to the number of blocks m: f = m is
// Malkomes et al.'s scheme (every block keeps `count`), f = 1 keeps each block's share with no
// final stage. Cost ≈ f·count·(chunkRows + count) distances. Small sets are one block (the
// official greedy itself, float32 distances).
// Every row is then within r₁ (its block's coverage radius) of a union point, which is within r₂
// of a bank entry: the coverage radius is at most r₁ + r₂.
//
// The blocks are shared by both threads (each takes the next block), so a busy core only
// slows the run down, never stalls it. The chunk stage depends on its own seed only, so
// eval's runs reuse it and redraw only the final stage.
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Rng } from '../../util/rng.js';
import { pickStarts } from './plain.js';
import { MinUpdate } from './simd.js';
import { readRange, readRows } from '../row-file.js';

/**
 * The projected rows: in memory (count × dim; shared memory spares the worker a copy), or the
 * path of the store's spill file of them, from which each thread reads only its current block.
 */
export type ProjectedRows = Float32Array | string;

/** Rows per block: 16384 × 128 floats = 8 MB, about a core's share of cache. */
export const CHUNK_ROWS = 16384;
/**
 * Row-to-center distances per row the plan is sized for: 600 × 25 ns = 15 µs per row on one core,
 * half of what the backbone spends per patch (inception_v3 at 512 px: ~31 µs), so the coreset stays
 * under feature extraction whatever the data. 1.2M rows at 1 %: f ≈ 2.1; 2.4M: f ≈ 1.5.
 */
export const PAIRS_PER_ROW = 600;

export function pairBudget(n: number): number {
  return Math.max(2e7, PAIRS_PER_ROW * n);
}
/** A worker silent this long is given up on (its blocks are then redone here). */
const STALL_MS = 30_000;

export interface ComposableOptions {
  chunkRows?: number;
  /** The union factor f (default: unionFactor). */
  union?: number;
  /** 1 or 2 (default: 2 when the machine has 2 cores and there are ≥ 2 blocks). */
  threads?: number;
  /** Filled in with how the run went. */
  stats?: ComposableStats;
  /** Let the worker finish the first block before taking any (tests: so that both threads surely take some). */
  awaitWorker?: boolean;
}

export interface ComposableStats {
  chunks: number;
  union: number;
  threads: number;
  /** Blocks done by each thread (main first). */
  blocks: number[];
}

/** A block: rows [from, to), keeping `keep` centers, written at out[at..]. */
export interface Block { from: number; to: number; keep: number; at: number }

/**
 * Up to this many rows, when n·count fits pairBudget, the whole set is one block: the official
 * greedy itself, with float32 distances (blocks would cost as much; the kernel's copy is ≤ 128 MB).
 */
export const ONE_BLOCK_ROWS = 262_144;

/** Rows per block: all of them when the official greedy fits the budget (see ONE_BLOCK_ROWS). */
export function blockRows(n: number, count: number): number {
  if (n <= ONE_BLOCK_ROWS && n * count <= pairBudget(n)) return Math.max(1, n);
  // f = 1 costs count·C: smaller blocks when even that passes the budget (large ratios)
  return Math.max(2048, Math.min(CHUNK_ROWS, Math.floor(pairBudget(n) / count)));
}

/** The largest union factor within pairBudget, between 1 and the number of blocks. */
export function unionFactor(n: number, count: number, chunkRows = CHUNK_ROWS): number {
  const m = Math.ceil(n / chunkRows);
  return Math.max(1, Math.min(m, pairBudget(n) / (count * (Math.min(chunkRows, n) + count))));
}

export function planBlocks(n: number, count: number, o: ComposableOptions = {}): Block[] {
  const C = o.chunkRows ?? blockRows(n, count), f = o.union ?? unionFactor(n, count, C);
  const blocks: Block[] = [];
  let at = 0, owed = 0;
  for (let from = 0; from < n; from += C) {
    const to = Math.min(n, from + C), share = (f * count * (to - from)) / n;
    // f = 1: whole shares carried over (largest-remainder style), so the union is exactly `count`
    const keep = Math.min(to - from, f <= 1 ? Math.max(0, Math.round(share + owed)) : Math.max(1, Math.ceil(share)));
    owed += share - keep;
    blocks.push({ from, to, keep, at });
    at += keep;
  }
  return blocks;
}

/** Work of a plan, in row-to-center distances: the progress and ETA scale. */
function blockWork(b: Block): number {
  return (b.to - b.from) * (b.keep + 10);
}

/**
 * The official greedy on the rows `rows` of z with the kernel: `keep` centers (local indices,
 * selection order) from the starts (local indices).
 */
export function kernelGreedy(k: MinUpdate, z: Float32Array, rows: ArrayLike<number>, keep: number, starts: Int32Array): Int32Array {
  const d = k.load(z, rows), m = rows.length;
  const mean = new Float64Array(m);
  for (const s of starts) {
    d.fill(Infinity);
    k.update(s);
    for (let i = 0; i < m; i++) mean[i] += Math.sqrt(d[i]);
  }
  let c = 0;
  for (let i = 0; i < m; i++) {
    d[i] = (mean[i] / starts.length) ** 2;
    if (d[i] > d[c]) c = i;
  }
  const picks = new Int32Array(keep);
  for (let t = 0; t < keep; t++) {
    picks[t] = c;
    c = k.update(c);
  }
  return picks;
}

/** Seeds of the blocks' starts: a function of the chunk seed and the block, nothing else. */
function blockStarts(b: Block, seed: number): Int32Array {
  const rng = new Rng(seed ^ Math.imul(b.from + 1, 0x9e3779b1));
  return pickStarts(b.to - b.from, rng.int(2 ** 31));
}

/**
 * Take blocks (done[0] is the next one to take) until none is left; done[1 + j] becomes 1 + slot
 * when block j is written. slot 0 is the main thread, 1 the worker.
 */
export function runBlocks(
  z: ProjectedRows, dim: number, blocks: Block[], seed: number, out: Int32Array, done: Int32Array,
  slot: number, onBlock?: () => void,
): number {
  const k = new MinUpdate(dim);
  let did = 0;
  for (;;) {
    const j = Atomics.add(done, 0, 1); // done[0]: next block to take
    if (j >= blocks.length) return did;
    runBlock(k, z, blocks[j], seed, out);
    Atomics.store(done, 1 + j, 1 + slot);
    Atomics.notify(done, 1 + j);
    did++;
    onBlock?.();
  }
}

function runBlock(k: MinUpdate, z: ProjectedRows, b: Block, seed: number, out: Int32Array): void {
  // a spilled block is read alone, so its rows are numbered from 0
  const rows = typeof z === 'string' ? withFile(z, (fd) => readRange(fd, k.dim, b.from, b.to)) : z;
  const first = typeof z === 'string' ? 0 : b.from;
  const idx = Int32Array.from({ length: b.to - b.from }, (_, i) => first + i);
  const picks = kernelGreedy(k, rows, idx, b.keep, blockStarts(b, seed));
  for (let t = 0; t < b.keep; t++) out[b.at + t] = b.from + picks[t];
}

/** `read` on the file, opened for reading and closed after. */
export function withFile<T>(file: string, read: (fd: number) => T): T {
  const fd = fs.openSync(file, 'r');
  try {
    return read(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Stage 1: the union of the blocks' centers (sorted row indices). Deterministic in (z, count,
 * seed, chunkRows, union): the thread count and which thread ran which block do not matter.
 */
export function chunkStage(
  z: ProjectedRows, n: number, dim: number, count: number, seed: number,
  onProgress?: (done: number, total: number) => void, o: ComposableOptions = {},
): { union: Int32Array; blocks: number[] } {
  const blocks = planBlocks(n, count, o);
  const total = blocks.reduce((s, b) => s + b.keep, 0);
  const threads = o.threads ?? (os.availableParallelism() >= 2 && blocks.length >= 2 ? 2 : 1);
  const shared = threads > 1 && (typeof z === 'string' || z.buffer instanceof SharedArrayBuffer);
  const buf = (bytes: number) => (threads > 1 ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  // done[0]: next block to take; done[1 + j]: 1 + the thread that wrote block j
  const out = new Int32Array(buf(total * 4)), done = new Int32Array(buf((blocks.length + 1) * 4));
  const work = blocks.map(blockWork), allWork = work.reduce((a, b) => a + b, 0);
  const report = () => {
    if (!onProgress) return;
    let w = 0;
    for (let j = 0; j < blocks.length; j++) if (Atomics.load(done, 1 + j)) w += work[j];
    onProgress(w, allWork);
  };
  let worker: Worker | null = null;
  if (threads > 1) {
    const zs = shared ? z : toShared(z as Float32Array, n * dim);
    worker = startWorker({ z: zs, dim, blocks, seed, out, done });
  }
  try {
    if (worker && o.awaitWorker) Atomics.wait(done, 1, 0, STALL_MS);
    runBlocks(z, dim, blocks, seed, out, done, 0, report);
    if (worker) waitForBlocks(z, dim, blocks, seed, out, done, report);
    report();
    const union = out.slice().sort();
    const by = [0, 0];
    for (let j = 0; j < blocks.length; j++) by[done[1 + j] - 1]++;
    return { union, blocks: worker ? by : [by[0]] };
  } finally {
    void worker?.terminate();
  }
}

/** Wait for the worker's blocks; redo here any it left unfinished for STALL_MS (a dead worker). */
function waitForBlocks(
  z: ProjectedRows, dim: number, blocks: Block[], seed: number, out: Int32Array, done: Int32Array, report: () => void,
): void {
  const k = new MinUpdate(dim);
  for (let j = 0; j < blocks.length; j++) {
    if (Atomics.load(done, 1 + j)) continue;
    if (Atomics.wait(done, 1 + j, 0, STALL_MS) === 'timed-out' && !Atomics.load(done, 1 + j)) {
      runBlock(k, z, blocks[j], seed, out); // the result is the same whoever computes it
      Atomics.store(done, 1 + j, 1);
    }
    report();
  }
}

function toShared(z: Float32Array, len: number): Float32Array {
  const zs = new Float32Array(new SharedArrayBuffer(len * 4));
  zs.set(z.subarray(0, len));
  return zs;
}

function startWorker(data: object): Worker | null {
  const file = new URL('./composable-worker.js', import.meta.url);
  if (file.protocol !== 'file:' || !fs.existsSync(fileURLToPath(file))) return null; // e.g. run from .ts sources
  try {
    const w = new Worker(file, { workerData: data });
    w.unref();
    w.on('error', () => undefined); // its blocks are redone by the main thread
    return w;
  } catch {
    return null;
  }
}

/** Stage 2: `count` of the union's rows by the same greedy (seeded by `seed`), in selection order. */
export function finalStage(z: ProjectedRows, dim: number, union: Int32Array, count: number, seed: number): Int32Array {
  if (union.length <= count) return union.slice();
  const local = typeof z === 'string' ? withFile(z, (fd) => readRows(fd, dim, union)) : null;
  const rows = local ? Int32Array.from(union.keys()) : union;
  return kernelGreedy(new MinUpdate(dim), local ?? (z as Float32Array), rows, count, pickStarts(union.length, seed)).map((p) => union[p]);
}

/** Both stages; the chunk stage seeded by `chunkSeed`, the final one by `seed`. */
export function composableCoreset(
  z: ProjectedRows, n: number, dim: number, count: number, seed: number, chunkSeed = seed,
  onProgress?: (done: number, total: number) => void, o: ComposableOptions = {},
): Int32Array {
  const u = chunkStage(z, n, dim, count, chunkSeed, onProgress, o);
  if (o.stats) Object.assign(o.stats, { chunks: planBlocks(n, count, o).length, union: u.union.length, threads: u.blocks.length, blocks: u.blocks });
  return finalStage(z, dim, u.union, count, seed);
}
