// Drift of one model's scores on the line: a rolling window of the latest image scores, summarised
// against the training leave-one-image-out scores. The distance is in units of the normalised
// score's scale (model.json normalization.scale), so one bound fits every model.
import { quantileSorted } from '../../scoring/decision.js';

/** Documented alert bounds (docs/SERVING.md): |median shift| over 1 scale unit, or twice the promised false-alarm share. */
export const DRIFT_BOUND = { medianUnits: 1, fprFactor: 2, minWindow: 50 };

export interface DriftReference {
  /** Median of the training leave-one-out scores (the mean for models fitted before it was recorded). */
  median: number;
  scale: number;
  threshold: number;
  promisedFpr: number | null;
}

export interface DriftSnapshot {
  n: number;
  median: number | null;
  q95: number | null;
  shareAbove: number | null;
  medianShift: number | null;
  warning: string | null;
}

export class DriftWindow {
  private readonly scores: Float64Array;
  private readonly failed: Uint8Array;
  private next = 0;
  private count = 0;

  constructor(readonly size: number) {
    this.scores = new Float64Array(size);
    this.failed = new Uint8Array(size);
  }

  push(score: number, fail: boolean): void {
    this.scores[this.next] = score;
    this.failed[this.next] = fail ? 1 : 0;
    this.next = (this.next + 1) % this.size;
    this.count = Math.min(this.count + 1, this.size);
  }

  snapshot(ref: DriftReference): DriftSnapshot {
    const n = this.count;
    if (n === 0) return { n, median: null, q95: null, shareAbove: null, medianShift: null, warning: null };
    const s = this.scores.slice(0, n).sort();
    let fails = 0;
    for (let i = 0; i < n; i++) fails += this.failed[i];
    const median = quantileSorted(s, 0.5);
    const shareAbove = fails / n;
    const medianShift = (median - ref.median) / ref.scale;
    let warning: string | null = null;
    if (n >= DRIFT_BOUND.minWindow) {
      if (Math.abs(medianShift) > DRIFT_BOUND.medianUnits)
        warning = `the median score of the last ${n} parts is ${Math.abs(medianShift).toFixed(1)} scale units ${medianShift > 0 ? 'above' : 'below'} the training median`;
      else if (ref.promisedFpr !== null && shareAbove > DRIFT_BOUND.fprFactor * ref.promisedFpr)
        warning = `${(100 * shareAbove).toFixed(0)} in 100 of the last ${n} parts failed, the model promised about ${(100 * ref.promisedFpr).toFixed(0)} in 100 good parts`;
    }
    return { n, median, q95: quantileSorted(s, 0.95), shareAbove, medianShift, warning };
  }
}
