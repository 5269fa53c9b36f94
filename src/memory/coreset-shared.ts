// State of the fast coreset that both threads see (see coreset-threads.ts). On one thread the
// same layout lives in ordinary ArrayBuffers, so Part has a single code path.

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

export class Shared {
  readonly ctrl: Int32Array;
  readonly f64: Float64Array; // [0]: worker's best δ; [1]: the center's δ (r)
  readonly gMax: Float64Array; // parts × count: δ of each part's group's first member
  readonly gMaxAx: Float64Array; // the same by window position (see Window)
  readonly ccS: Float64Array; // per group: lower bound of ‖c−g‖ for the current center when a candidate
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

/** Wait until ctrl[slot] === want (spinning briefly first); false when Failed is raised or after `timeoutMs`. */
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
