// The composable coreset's first stage (composable.ts): the rows in blocks, each keeping its share
// of the union by the official greedy on the SIMD kernel (simd.ts). The blocks are shared by both
// threads (each takes the next block; worker.ts is the second), so a busy core only slows the run
// down, never stalls it. The stage depends on its own seed only, so eval's runs reuse it and
// redraw only the final stage.
import os from 'node:os';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Rng } from '../../../util/rng.js';
import { pickStarts } from '../plain.js';
import { MinUpdate } from './simd.js';
import { readRange, withFile } from '../../row-file.js';
import type { Matrix, ProjectedRows } from '../../matrix.js';

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
  onProgress?: (done: number, total: number) => void;
}

export interface ComposableStats {
  chunks: number;
  union: number;
  threads: number;
  /** Blocks done by each thread (main first). */
  blocks: number[];
}

/** A block: rows [from, to), keeping `keep` centers, written at out[at..]. */
export interface Block {
  from: number;
  to: number;
  keep: number;
  at: number;
}

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
  const C = o.chunkRows ?? blockRows(n, count),
    f = o.union ?? unionFactor(n, count, C);
  const blocks: Block[] = [];
  let at = 0,
    owed = 0;
  for (let from = 0; from < n; from += C) {
    const to = Math.min(n, from + C),
      share = (f * count * (to - from)) / n;
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

/** Some rows of a matrix (row-major `data`, the kernel's width): the rows a greedy runs over. */
export interface RowsOf {
  data: Float32Array;
  rows: ArrayLike<number>;
}

/**
 * The official greedy on the rows `rows` of `data` with the kernel: `keep` centers (local indices,
 * selection order) from the starts (local indices).
 */
export function kernelGreedy(k: MinUpdate, { data, rows }: RowsOf, { keep, starts }: { keep: number; starts: Int32Array }): Int32Array {
  const d = k.load(data, rows),
    m = rows.length;
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
 * The chunk stage's shared state, as both threads see it (the worker receives it as is): the rows,
 * the plan, the blocks' seed; `out` receives each block's centers at its `at`; done[0] is the
 * next block to take, done[1 + j] becomes 1 + the thread that wrote block j.
 */
export interface BlockJob {
  z: ProjectedRows;
  dim: number;
  blocks: Block[];
  seed: number;
  out: Int32Array;
  done: Int32Array;
}

/**
 * Take blocks (done[0] is the next one to take) until none is left; done[1 + j] becomes 1 + slot
 * when block j is written. slot 0 is the main thread, 1 the worker.
 */
export function runBlocks(job: BlockJob, slot: number, onBlock?: () => void): number {
  const { blocks, done } = job;
  const k = new MinUpdate(job.dim);
  let did = 0;
  for (;;) {
    const j = Atomics.add(done, 0, 1); // done[0]: next block to take
    if (j >= blocks.length) return did;
    runBlock(k, job, blocks[j]);
    Atomics.store(done, 1 + j, 1 + slot);
    Atomics.notify(done, 1 + j);
    did++;
    onBlock?.();
  }
}

function runBlock(k: MinUpdate, { z, seed, out }: BlockJob, b: Block): void {
  // a spilled block is read alone, so its rows are numbered from 0
  const data = typeof z === 'string' ? withFile(z, (fd) => readRange(fd, k.dim, b)) : z;
  const first = typeof z === 'string' ? 0 : b.from;
  const rows = Int32Array.from({ length: b.to - b.from }, (_, i) => first + i);
  const picks = kernelGreedy(k, { data, rows }, { keep: b.keep, starts: blockStarts(b, seed) });
  for (let t = 0; t < b.keep; t++) out[b.at + t] = b.from + picks[t];
}

/**
 * Stage 1: the union of the blocks' centers (sorted row indices). Deterministic in (z, count,
 * seed, chunkRows, union): the thread count and which thread ran which block do not matter.
 */
export function chunkStage(rows: Matrix<ProjectedRows>, count: number, seed: number, o: ComposableOptions = {}): { union: Int32Array; blocks: number[] } {
  const { data: z, n, dim } = rows,
    onProgress = o.onProgress;
  const blocks = planBlocks(n, count, o);
  const total = blocks.reduce((s, b) => s + b.keep, 0);
  const threads = o.threads ?? (os.availableParallelism() >= 2 && blocks.length >= 2 ? 2 : 1);
  const shared = threads > 1 && (typeof z === 'string' || z.buffer instanceof SharedArrayBuffer);
  const buf = (bytes: number) => (threads > 1 ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  // done[0]: next block to take; done[1 + j]: 1 + the thread that wrote block j
  const out = new Int32Array(buf(total * 4)),
    done = new Int32Array(buf((blocks.length + 1) * 4));
  const work = blocks.map(blockWork),
    allWork = work.reduce((a, b) => a + b, 0);
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
  const job: BlockJob = { z, dim, blocks, seed, out, done };
  try {
    if (worker && o.awaitWorker) Atomics.wait(done, 1, 0, STALL_MS);
    runBlocks(job, 0, report);
    if (worker) waitForBlocks(job, report);
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
function waitForBlocks(job: BlockJob, report: () => void): void {
  const { blocks, done } = job;
  const k = new MinUpdate(job.dim);
  for (let j = 0; j < blocks.length; j++) {
    if (Atomics.load(done, 1 + j)) continue;
    if (Atomics.wait(done, 1 + j, 0, STALL_MS) === 'timed-out' && !Atomics.load(done, 1 + j)) {
      runBlock(k, job, blocks[j]); // the result is the same whoever computes it
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

function startWorker(data: BlockJob): Worker | null {
  const file = new URL('./worker.js', import.meta.url);
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
