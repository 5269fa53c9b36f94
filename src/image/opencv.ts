// Lazy, single load of the OpenCV.js (WASM) module.
import type { CV, Mat } from '@techstark/opencv-js';

export type { CV, Mat };

let loading: Promise<{ cv: CV }> | undefined;

/** Process events the Emscripten glue hooks: it rethrows uncaught exceptions and aborts
 * the WASM runtime on any unhandled rejection anywhere in the process. */
const HOOKED_EVENTS = ['uncaughtException', 'unhandledRejection'];
const emitter: NodeJS.EventEmitter = process;

/**
 * Load OpenCV.js once (≈80 ms the first time). The module object is itself a
 * thenable whose `then` calls back with the module again, so it must never be
 * the resolution value of a promise (that would recurse): it is wrapped in `{ cv }`.
 * The glue's process listeners are removed so that an unrelated rejection (e.g. in the
 * server) neither kills OpenCV nor changes the process's crash behaviour.
 */
export function loadOpenCv(): Promise<{ cv: CV }> {
  loading ??= (async () => {
    const before = HOOKED_EVENTS.map((e) => new Set(emitter.listeners(e)));
    try {
      const ns = await import('@techstark/opencv-js');
      const mod = ((ns as { default?: unknown }).default ?? ns) as CV & { then(cb: (m: CV) => void): void };
      return await new Promise<{ cv: CV }>((resolve) => mod.then((m) => resolve({ cv: m })));
    } finally {
      HOOKED_EVENTS.forEach((e, k) => {
        for (const l of emitter.listeners(e)) if (!before[k].has(l)) emitter.removeListener(e, l as (...a: unknown[]) => void);
      });
    }
  })();
  return loading;
}

/** Run `fn` and delete every Mat it registered, even when it throws (WASM heap is not GC'd). */
export function withMats<T>(fn: (track: <M extends Mat>(m: M) => M) => T): T {
  const mats: Mat[] = [];
  try {
    return fn((m) => {
      mats.push(m);
      return m;
    });
  } finally {
    for (const m of mats) if (!m.isDeleted()) m.delete();
  }
}
