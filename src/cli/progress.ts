// Progress bars on stderr, only when it is a terminal and not --quiet.
export function makeProgress(quiet: boolean): (stage: string, done: number, total: number) => void {
  if (quiet || !process.stderr.isTTY) return () => undefined;
  const started = new Map<string, number>();
  const totals = new Map<string, number>();
  return (stage, done, total) => {
    // a new total restarts the clock (the coreset's auto method can switch to another plan)
    if (!started.has(stage) || totals.get(stage) !== total) started.set(stage, Date.now());
    totals.set(stage, total);
    const frac = total > 0 ? done / total : 1;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const el = (Date.now() - started.get(stage)!) / 1000;
    const eta = frac > 0 && frac < 1 ? ` eta ${Math.round((el / frac) * (1 - frac))}s` : '';
    process.stderr.write(`\r${stage.padEnd(24)} [${bar}] ${done}/${total}${eta}   `);
    if (done >= total) process.stderr.write('\n');
  };
}

/**
 * Wraps a progress callback and times its stages: a stage runs from the previous stage's last
 * report (or the start) to its own last report. `summary()` is e.g. "features 37.1 s, coreset 20.3 s".
 */
export function timeStages(inner: (stage: string, done: number, total: number) => void) {
  const t0 = Date.now(),
    last = new Map<string, number>();
  let prevEnd = t0;
  const start = new Map<string, number>();
  return {
    progress(stage: string, done: number, total: number): void {
      if (!start.has(stage)) start.set(stage, prevEnd);
      const now = Date.now();
      last.set(stage, now);
      prevEnd = now;
      inner(stage, done, total);
    },
    summary(): string {
      return [...last].map(([s, end]) => `${s} ${((end - start.get(s)!) / 1000).toFixed(1)} s`).join(', ');
    },
  };
}
