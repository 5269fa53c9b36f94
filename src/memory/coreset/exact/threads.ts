// Two-thread driver of the exact greedy. The points are split by index parity between the
// main thread and one worker (worker.ts), each keeping its own groups and max-tree.
// Per center, both threads share the center-to-group bounds (each computes half of them),
// then update their own points; the main thread takes the larger of the two maxima. Each
// point's δ goes through exactly the same operations as on one thread, so the result is the
// same. The threads advance in lockstep: worth it only when a second core is really free.
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Part } from './part.js';
import { Board } from './board.js';
import { Control, Ctl, signal, waitFor } from './protocol.js';
import type { ExactJob } from './job.js';

/** A worker silent this long is given up on (the run then restarts on one thread). */
const STALL_MS = 60_000;

/** Cores idle over the next `ms` milliseconds (this thread sleeps meanwhile). */
export function idleCores(ms: number): number {
  const idle = () => os.cpus().reduce((sum, c) => sum + c.times.idle, 0);
  const a = idle(),
    t = performance.now();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return (idle() - a) / Math.max(1, performance.now() - t);
}

/** The selection (null when `within` stopped the run) and the work of each thread (main first). */
export interface ThreadedRun {
  indices: Int32Array | null;
  distances: number[];
  work: number[];
}

/** How the main thread follows the run: progress, and whether it may go on (a work budget). */
export interface RunControl {
  onProgress?: (done: number, total: number) => void;
  within?: (t: number, work: number) => boolean;
}

/** The main thread's side of the two-thread run; null when the worker fails (then run on one thread). */
export function twoThreads(job: ExactJob, { onProgress, within = () => true }: RunControl = {}): ThreadedRun | null {
  const { count } = job,
    { data: z, n, dim } = job.rows;
  const sh = new Board(count, 2),
    ctl = new Control();
  let zs = z;
  if (!(z.buffer instanceof SharedArrayBuffer)) {
    zs = new Float32Array(new SharedArrayBuffer(n * dim * 4));
    zs.set(z.subarray(0, n * dim));
  }
  const shared: ExactJob = { ...job, rows: { data: zs, n, dim } };
  const file = new URL('./worker.js', import.meta.url);
  if (file.protocol !== 'file:' || !fs.existsSync(fileURLToPath(file))) return null; // e.g. run from .ts sources
  let worker: Worker;
  try {
    worker = new Worker(file, { workerData: { job: shared, board: sh.buffers, control: ctl.buffers } });
  } catch {
    return null;
  }
  worker.unref();
  worker.on('error', () => signal(ctl.ctrl, Ctl.Failed, 1)); // only seen once the main thread is idle
  const ctrl = ctl.ctrl,
    f64 = ctl.f64;
  try {
    const part = new Part(shared, 0, 2, sh);
    if (!waitFor(ctrl, Ctl.Ready, 1, STALL_MS)) return null;
    const out = new Int32Array(count);
    const every = Math.max(1, Math.floor(count / 100));
    for (let t = 0; t < count; t++) {
      let c = part.tree.bestIndex,
        r = part.tree.bestValue;
      const wv = f64[0],
        wi = Atomics.load(ctrl, Ctl.WorkerBestIndex);
      if (wv > r || (wv === r && wi < c)) {
        c = wi;
        r = wv;
      }
      out[t] = c;
      f64[1] = r;
      Atomics.store(ctrl, Ctl.Center, c);
      signal(ctrl, Ctl.Go, t + 1);
      part.phase1(t, c, r);
      signal(ctrl, Ctl.MainPhase1, t + 1);
      if (!waitFor(ctrl, Ctl.WorkerPhase1, t + 1, STALL_MS)) return null;
      part.phase2(t, c);
      if (!waitFor(ctrl, Ctl.WorkerDone, t + 1, STALL_MS)) return null;
      if (!within(t, part.work + f64[3])) return { indices: null, distances: [part.distances, f64[2]], work: [part.work, f64[3]] };
      if (onProgress && ((t + 1) % every === 0 || t + 1 === count)) onProgress(t + 1, count);
    }
    return { indices: out, distances: [part.distances, f64[2]], work: [part.work, f64[3]] };
  } finally {
    signal(ctrl, Ctl.Go, -1);
    void worker.terminate();
  }
}
