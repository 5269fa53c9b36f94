// --webhook URL: each result as a JSON POST. A failed attempt (network error, timeout, non-2xx) is
// retried with exponential backoff; after the last attempt the result is marked given up and
// counted. Sending runs beside inspection and never holds it up.
import type { ResultRow, ResultStore } from '../record/store.js';
import type { StationMetrics } from '../monitor/station-metrics.js';
import { message, OutboxSink } from './outbox.js';

export interface WebhookOptions {
  url: string;
  attempts: number;
  firstDelayMs: number;
  timeoutMs: number;
}

export const WEBHOOK_DEFAULTS = { attempts: 6, firstDelayMs: 250, timeoutMs: 5000 };

export class WebhookSink extends OutboxSink {
  readonly kind = 'webhook';

  constructor(
    store: ResultStore,
    private readonly o: WebhookOptions,
    private readonly metrics: StationMetrics,
  ) {
    super(store);
  }

  protected async deliver(r: ResultRow): Promise<boolean | null> {
    const body = JSON.stringify(message(r));
    for (let attempt = 0; attempt < this.o.attempts; attempt++) {
      if (attempt > 0) {
        this.metrics.deliveries.webhook.retries++;
        await new Promise((res) => setTimeout(res, this.o.firstDelayMs * 2 ** (attempt - 1)));
      }
      if (this.closed) return null;
      try {
        const res = await fetch(this.o.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': r.id },
          body,
          signal: AbortSignal.timeout(this.o.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.metrics.deliveries.webhook.ok++;
          return true;
        }
      } catch {
        // retried below
      }
    }
    this.metrics.deliveries.webhook.failed++;
    return false;
  }

  async close(): Promise<void> {
    await this.stop();
  }
}
