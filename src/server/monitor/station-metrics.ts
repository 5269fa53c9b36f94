// Per-model station metrics for /metrics: verdict counters, a histogram of the normalised score,
// the drift gauges, and delivery counters of the outputs.
import type { ResultRow } from '../record/store.js';
import type { ServedModel, StationObserver } from '../record/station.js';
import { DriftWindow, type DriftReference, type DriftSnapshot } from './drift.js';

const NORMALIZED_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];

interface PerModel {
  pass: number;
  fail: number;
  buckets: number[];
  sum: number;
  window: DriftWindow;
  ref: DriftReference;
}

export function driftReference(s: ServedModel): DriftReference {
  const c = s.model.config;
  const t = c.trainScores as typeof c.trainScores & { median?: number };
  return { median: t.median ?? t.mean, scale: c.normalization.scale, threshold: c.threshold, promisedFpr: c.thresholdInfo.promisedFpr ?? null };
}

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class StationMetrics implements StationObserver {
  private readonly models = new Map<string, PerModel>();
  readonly deliveries = { mqtt: { ok: 0, failed: 0 }, webhook: { ok: 0, failed: 0, retries: 0 } };
  watchBacklog: () => number = () => 0;

  constructor(readonly windowSize = 200) {}

  observe(row: ResultRow, served: ServedModel): void {
    const m = this.model(served);
    m.ref = driftReference(served); // a threshold change moves the reference's threshold from now on
    m[row.verdict]++;
    const i = NORMALIZED_BUCKETS.findIndex((b) => row.normalized <= b);
    m.buckets[i < 0 ? NORMALIZED_BUCKETS.length : i]++;
    m.sum += row.normalized;
    m.window.push(row.score, row.verdict === 'fail');
  }

  drift(name: string): DriftSnapshot | null {
    const m = this.models.get(name);
    return m ? m.window.snapshot(m.ref) : null;
  }

  /** Registers a model before its first part, so its gauges show from the start. */
  model(served: ServedModel): PerModel {
    let m = this.models.get(served.name);
    if (!m) {
      m = {
        pass: 0,
        fail: 0,
        buckets: new Array(NORMALIZED_BUCKETS.length + 1).fill(0),
        sum: 0,
        window: new DriftWindow(this.windowSize),
        ref: driftReference(served),
      };
      this.models.set(served.name, m);
    }
    return m;
  }

  render(): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family('patchcore_parts_total', 'counter', 'Parts judged, by model and verdict.');
    for (const [name, m] of this.models)
      for (const v of ['pass', 'fail'] as const) out.push(`patchcore_parts_total{model="${esc(name)}",verdict="${v}"} ${m[v]}`);
    family('patchcore_normalized_score', 'histogram', 'Normalised score of each part (0.5 = at the threshold).');
    for (const [name, m] of this.models) {
      let cum = 0;
      NORMALIZED_BUCKETS.forEach((b, i) => out.push(`patchcore_normalized_score_bucket{model="${esc(name)}",le="${b}"} ${(cum += m.buckets[i])}`));
      cum += m.buckets[NORMALIZED_BUCKETS.length];
      out.push(
        `patchcore_normalized_score_bucket{model="${esc(name)}",le="+Inf"} ${cum}`,
        `patchcore_normalized_score_sum{model="${esc(name)}"} ${m.sum}`,
        `patchcore_normalized_score_count{model="${esc(name)}"} ${cum}`,
      );
    }
    const gauges: [string, string, (d: DriftSnapshot) => number | null][] = [
      ['patchcore_drift_window_parts', 'Parts in the drift window.', (d) => d.n],
      ['patchcore_drift_score_median', 'Median image score over the drift window.', (d) => d.median],
      ['patchcore_drift_score_q95', '95th percentile of the image score over the drift window.', (d) => d.q95],
      ['patchcore_drift_share_failed', 'Share of the drift window judged fail.', (d) => d.shareAbove],
      [
        'patchcore_drift_median_shift',
        "Window median minus the training leave-one-out median, in units of the normalised score's scale.",
        (d) => d.medianShift,
      ],
    ];
    for (const [g, help, f] of gauges) {
      family(g, 'gauge', help);
      for (const [name, m] of this.models) {
        const v = f(m.window.snapshot(m.ref));
        if (v !== null) out.push(`${g}{model="${esc(name)}"} ${v}`);
      }
    }
    family('patchcore_watch_backlog', 'gauge', 'Files in watched folders waiting to be judged.');
    out.push(`patchcore_watch_backlog ${this.watchBacklog()}`);
    family('patchcore_deliveries_total', 'counter', 'Results delivered to an output, or given up on.');
    for (const sink of ['mqtt', 'webhook'] as const)
      for (const state of ['ok', 'failed'] as const) out.push(`patchcore_deliveries_total{output="${sink}",state="${state}"} ${this.deliveries[sink][state]}`);
    family('patchcore_webhook_retries_total', 'counter', 'Webhook attempts that failed and were retried.');
    out.push(`patchcore_webhook_retries_total ${this.deliveries.webhook.retries}`);
    return out.join('\n') + '\n';
  }
}
