// The second thread of the exact greedy (greedy.ts, driven by threads.ts): owns the points with odd index.
import { workerData } from 'node:worker_threads';
import { Part } from './part.js';
import { Board } from './board.js';
import { Control, Ctl, signal, waitFor } from './protocol.js';
import type { ExactJob } from './job.js';

interface Data {
  job: ExactJob;
  board: SharedArrayBuffer[];
  control: SharedArrayBuffer[];
}

const { job, board, control } = workerData as Data;
const { count } = job;
const sh = new Board(count, 2, board);
const ctl = new Control(control),
  ctrl = ctl.ctrl;
try {
  const part = new Part(job, 1, 2, sh);
  const publish = () => {
    ctl.f64[0] = part.tree.bestValue;
    ctl.f64[2] = part.distances;
    ctl.f64[3] = part.work;
    Atomics.store(ctrl, Ctl.WorkerBestIndex, part.tree.bestIndex);
  };
  publish();
  signal(ctrl, Ctl.Ready, 1);
  for (let t = 0; t < count; t++) {
    // Go is t + 1 for iteration t, or −1 to stop early.
    for (;;) {
      const go = Atomics.load(ctrl, Ctl.Go);
      if (go === t + 1 || go < 0) break;
      waitFor(ctrl, Ctl.Go, t + 1, 1000);
    }
    if (Atomics.load(ctrl, Ctl.Go) < 0) break;
    const c = Atomics.load(ctrl, Ctl.Center),
      r = ctl.f64[1];
    part.phase1(t, c, r);
    signal(ctrl, Ctl.WorkerPhase1, t + 1);
    if (!waitFor(ctrl, Ctl.MainPhase1, t + 1)) break;
    part.phase2(t, c);
    publish();
    signal(ctrl, Ctl.WorkerDone, t + 1);
  }
} catch (e) {
  signal(ctrl, Ctl.Failed, 1);
  throw e;
}
