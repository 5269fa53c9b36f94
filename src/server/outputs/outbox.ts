// Results go out from the record, not from memory: a sink sends the rows still marked pending,
// oldest first, and marks each one sent (or given up). A restart resends what was pending, so no
// result is lost; a crash between the receiver's acknowledgement and the mark can repeat one, which
// receivers drop by its id.
import type { ResultRow, ResultStore } from '../record/store.js';
import type { ResultSink } from '../record/station.js';

export function message(r: ResultRow) {
  return {
    id: r.id,
    time: r.time,
    station: r.station,
    camera: r.camera,
    source: r.source,
    model: { name: r.model_name, version: r.model_version, model_id: r.model_id },
    threshold: r.threshold,
    min_area: r.min_area,
    score: r.score,
    normalized: r.normalized,
    verdict: r.verdict,
    regions: r.regions,
  };
}

export abstract class OutboxSink implements ResultSink {
  abstract readonly kind: 'mqtt' | 'webhook';
  private running: Promise<void> | null = null;
  private again = false;
  protected closed = false;

  constructor(protected readonly store: ResultStore) {}

  /** Sends `r`; true when acknowledged, false when given up on, null when stopped first (stays pending). Never throws. */
  protected abstract deliver(r: ResultRow): Promise<boolean | null>;

  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pump().finally(() => {
      this.running = null;
    });
  }

  /** Waits a little for the send in progress; what is not acknowledged stays pending for the next start. */
  async stop(waitMs = 2000): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((res) => (timer = setTimeout(res, waitMs)))]);
    clearTimeout(timer);
  }

  private async pump(): Promise<void> {
    do {
      this.again = false;
      for (let rows = this.store.pending(this.kind); rows.length > 0 && !this.closed; rows = this.store.pending(this.kind))
        for (const r of rows) {
          if (this.closed) return;
          const ok = await this.deliver(r);
          if (ok === null || !this.store.db.open) return;
          this.store.delivered(this.kind, r.id, ok ? 1 : 2);
        }
    } while (this.again && !this.closed);
  }
}
