// The two-thread driver's control words (threads.ts, worker.ts). The one-thread path never sees them.

/** Int32 slots of Control.ctrl (a plain object rather than a const enum, which bundlers cannot inline across files). */
export const Ctl = {
  Go: 0, // main → worker: iteration number + 1 (−1: stop)
  Center: 1, // main → worker: the center index
  Ready: 2, // worker → main: 1 once set up (its best is then published)
  WorkerPhase1: 3, // worker → main: iteration + 1 when its half of the center-to-group distances is done
  MainPhase1: 4, // main → worker: same for the main thread
  WorkerDone: 5, // worker → main: iteration + 1 when its points are updated (0: ready after setup)
  WorkerBestIndex: 6, // worker's best point index
  Failed: 7, // worker → main: 1 when the worker threw
  Size: 8,
} as const;

export class Control {
  readonly ctrl: Int32Array;
  /** [0]: worker's best δ; [1]: the center's δ (r); [2], [3]: the worker's exact distances and work units. */
  readonly f64: Float64Array;
  readonly buffers: SharedArrayBuffer[];

  constructor(buffers?: SharedArrayBuffer[]) {
    this.buffers = buffers ?? [new SharedArrayBuffer(Ctl.Size * 4), new SharedArrayBuffer(4 * 8)];
    this.ctrl = new Int32Array(this.buffers[0]);
    this.f64 = new Float64Array(this.buffers[1]);
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
