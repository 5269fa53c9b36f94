// What the paired and held-out benches share: the image AUROC of scores, and a bootstrap's 95 %
// percentile interval with the share of resamples at or below 0.
import { auroc } from '../../src/metrics/image.js';

export const aurocOf = (s: ArrayLike<number>, l: ArrayLike<number>): number => auroc(s, l).value as number;

export interface Interval {
  lo: number;
  hi: number;
  /** Share of the resampled values ≤ 0 (for a difference: how often it is no gain). */
  atMostZero: number;
}

/** 2.5 % and 97.5 % percentiles of resampled values (sorted in place), and the share ≤ 0. */
export function percentileInterval(values: Float64Array): Interval {
  const n = values.length;
  values.sort();
  return { lo: values[Math.floor(0.025 * n)], hi: values[Math.ceil(0.975 * n) - 1], atMostZero: values.filter((x) => x <= 0).length / n };
}
