// From scores to decisions: the conformal threshold at a target false-alarm rate, and the
// normalised score that puts any threshold at exactly 0.5.

export interface ConformalThreshold {
  value: number;
  /** Scores it was taken from (one per leave-one-image-out training image). */
  n: number;
  /** The rank used, 1-based: the ⌈(n+1)(1−A)⌉-th smallest score (capped at n). */
  rank: number;
  /** The false-alarm rate the rank can promise: A if n is large enough, else 1/(n+1). */
  promisedFpr: number;
  /** Set when n is too small for the A asked. */
  warning?: string;
}

/**
 * Split-conformal quantile: for a new good image exchangeable with the n calibration images,
 * P(score > the ⌈(n+1)(1−A)⌉-th smallest of the n scores) ≤ A. With fewer than ⌈1/A⌉ − 1
 * images no rank can promise A: the largest score is used and the promise is 1/(n+1).
 */
export function conformalThreshold(scores: ArrayLike<number>, targetFpr: number): ConformalThreshold {
  const n = scores.length;
  if (n < 1) throw new Error('conformalThreshold: no scores');
  const sorted = Float64Array.from(scores).sort();
  const rank = Math.ceil((n + 1) * (1 - targetFpr));
  if (rank <= n) return { value: sorted[rank - 1], n, rank, promisedFpr: targetFpr };
  return {
    value: sorted[n - 1],
    n,
    rank: n,
    promisedFpr: 1 / (n + 1),
    warning: `${n} training images cannot promise a false-alarm rate of ${targetFpr}: it needs at least ${Math.ceil(1 / targetFpr) - 1}; the threshold is the largest training score (false-alarm rate about ${(1 / (n + 1)).toFixed(3)})`,
  };
}

/**
 * Scale of the normalised score: (q90 − q50) / ln 9 of the good training scores, so that with the
 * threshold at the training q90 the median good image maps to 0.1. Falls back to the spread, then
 * to a tiny positive number, so that the mapping stays strictly monotone.
 */
export function normalizationScale(scores: ArrayLike<number>): number {
  const s = Float64Array.from(scores).sort();
  const q = (p: number) => quantileSorted(s, p);
  const spread = (q(0.9) - q(0.5)) / Math.log(9);
  if (spread > 0) return spread;
  const range = (s[s.length - 1] - s[0]) / Math.log(9);
  return range > 0 ? range : Math.max(Math.abs(s[0]) * 1e-3, 1e-12);
}

/** The p-quantile of ascending `sorted` values, nearest rank. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1) + 0.5))];
}

/** normalized = 1 / (1 + exp(−(score − threshold) / scale)): strictly monotone, 0.5 at the threshold. */
export function normalizeScore(score: number, threshold: number, scale: number): number {
  return 1 / (1 + Math.exp(-(score - threshold) / scale));
}
