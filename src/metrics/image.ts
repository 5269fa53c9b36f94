// Image-level metrics: AUROC (sklearn roc_auc_score), ROC curve points and F1-max
// (sklearn precision_recall_curve). Labels: 1 = anomalous (positive), 0 = good.
import { invalid, UserError } from '../util/errors.js';
import { F1Best, RocArea } from './curve.js';
import { argsortDesc, walkGroups } from './sort.js';
import { defined, undefinedMetric, type MetricValue } from './value.js';

export type F1Max = { value: number; threshold: number } | { value: null; reason: string };

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** thresholds[i] gives (fpr[i], tpr[i]) with predictions score >= threshold; the first is +Infinity. */
  thresholds: number[];
  /** Set (and the arrays empty) when the curve is undefined. */
  reason?: string;
}

interface Sorted {
  order: Uint32Array;
  sorted: Float64Array;
  positives: number;
  negatives: number;
}

/** Validate and sort once by descending score. */
function sortScores(scores: ArrayLike<number>, labels: ArrayLike<number>): Sorted {
  if (scores.length !== labels.length) {
    throw new UserError(`metrics: ${scores.length} scores but ${labels.length} labels`);
  }
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) throw invalid(`labels[${i}]`, '0 or 1', labels[i]);
    if (Number.isNaN(scores[i])) throw invalid(`scores[${i}]`, 'a number', scores[i]);
    positives += labels[i];
  }
  const order = argsortDesc(scores);
  const sorted = Float64Array.from(order, (i) => scores[i]);
  return { order, sorted, positives, negatives: labels.length - positives };
}

/** Call `onThreshold` with cumulative (tp, fp) at each distinct score, highest first. */
function walkScores(s: Sorted, labels: ArrayLike<number>, onThreshold: (tp: number, fp: number, threshold: number) => void): void {
  let tp = 0,
    fp = 0;
  walkGroups(
    s.order,
    s.sorted,
    (i) => {
      if (labels[i] === 1) tp++;
      else fp++;
    },
    (first) => onThreshold(tp, fp, s.sorted[first]),
  );
}

function oneClassReason(c: Sorted): string | undefined {
  if (c.positives + c.negatives === 0) return 'test set is empty';
  if (c.positives === 0 || c.negatives === 0) return 'test set has only one class';
  return undefined;
}

/** AUROC = Mann–Whitney U / (n₊·n₋), ties counted ½. Undefined with one class. */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): MetricValue {
  const s = sortScores(scores, labels);
  const reason = oneClassReason(s);
  if (reason) return undefinedMetric(reason);
  const roc = new RocArea();
  walkScores(s, labels, (tp, fp) => roc.step(tp, fp));
  return defined(roc.result());
}

/** ROC points at every distinct score, evenly thinned to at most `maxPoints` (ends kept). */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, maxPoints = 500): RocCurve {
  const s = sortScores(scores, labels);
  const reason = oneClassReason(s);
  if (reason) return { fpr: [], tpr: [], thresholds: [], reason };
  const tps = [0],
    fps = [0],
    thresholds = [Infinity];
  walkScores(s, labels, (tp, fp, t) => {
    tps.push(tp);
    fps.push(fp);
    thresholds.push(t);
  });
  const keep = thinIndices(tps.length, Math.max(2, maxPoints));
  return {
    fpr: keep.map((i) => fps[i] / s.negatives),
    tpr: keep.map((i) => tps[i] / s.positives),
    thresholds: keep.map((i) => thresholds[i]),
  };
}

/** `m` indices spread evenly over 0..n-1, always including both ends. */
function thinIndices(n: number, m: number): number[] {
  if (n <= m) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: m }, (_, k) => Math.round((k * (n - 1)) / (m - 1)));
}

/** Best F1 over thresholds (predict anomalous when score >= threshold). Undefined without positives. */
export function f1Max(scores: ArrayLike<number>, labels: ArrayLike<number>): F1Max {
  const s = sortScores(scores, labels);
  if (s.positives === 0) return undefinedMetric('test set has no anomalous samples');
  const best = new F1Best(s.positives);
  walkScores(s, labels, (tp, fp, t) => best.step(tp, fp, t));
  return { value: best.f1, threshold: best.at };
}
