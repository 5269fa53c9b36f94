// Thresholds from labelled images (`patchcore calibrate`): the F1-max threshold, or the one with the
// fewest false alarms that still catches a given share of the defects; with masks, the pixel
// threshold by pixel F1-max. Verdicts are `score > threshold`, so each chosen value sits halfway
// between two neighbouring scores: the labelled images fall on the same side at any precision.
import type { ScoreMap } from '../types.js';
import { f1Max, pixelF1Max } from '../metrics/index.js';
import { invalid } from '../util/errors.js';

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function confusion(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): Confusion {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < scores.length; i++) {
    const flagged = scores[i] > threshold;
    if (labels[i] === 1) flagged ? c.tp++ : c.fn++;
    else flagged ? c.fp++ : c.tn++;
  }
  return c;
}

export const f1Of = (c: Confusion): number => (2 * c.tp) / (2 * c.tp + c.fp + c.fn);

/** A threshold t with exactly the scores ≥ `at` above it: halfway to the next lower score. */
function justBelow(at: number, values: Iterable<number>): number {
  let below = -Infinity;
  for (const v of values) if (v < at && v > below) below = v;
  return Number.isFinite(below) ? below + (at - below) / 2 : at - Math.max(Math.abs(at) * 1e-6, 1e-12);
}

/** The F1-max threshold (as eval reports it), moved to the `>` convention. */
export function f1Threshold(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const f = f1Max(scores, labels);
  if (f.value === null) throw new Error(f.reason);
  return justBelow(f.threshold, Array.from(scores));
}

/** The largest threshold that still flags at least `minRecall` of the defects: the fewest false alarms. */
export function recallThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>, minRecall: number): number {
  if (!(minRecall > 0 && minRecall <= 1)) throw invalid('minRecall', 'a share in (0, 1]', minRecall);
  const defects = Array.from(scores)
    .filter((_, i) => labels[i] === 1)
    .sort((a, b) => b - a);
  const need = Math.ceil(minRecall * defects.length - 1e-9);
  return justBelow(defects[need - 1], Array.from(scores));
}

/** Pixel F1-max over maps and masks of the same size, moved to the `>` convention. */
export function pixelThresholdFromMasks(maps: ScoreMap[], masks: ArrayLike<number>[]): number {
  const f = pixelF1Max(maps, masks);
  if (f.value === null) throw new Error(f.reason);
  return justBelow(
    f.threshold,
    (function* () {
      for (const m of maps) yield* m.data;
    })(),
  );
}
