// Streaming accumulators fed once per threshold (distinct score, descending) with
// cumulative counts, so no curve of millions of points is ever materialised.

/** Area under ROC from cumulative (tp, fp); trapezoids count ties as ½ (= Mann–Whitney). */
export class RocArea {
  private tp = 0;
  private fp = 0;
  private area = 0;
  step(tp: number, fp: number): void {
    this.area += ((fp - this.fp) * (tp + this.tp)) / 2;
    this.tp = tp;
    this.fp = fp;
  }
  /** Normalised area; callers ensure both classes are present. */
  result(): number {
    return this.area / (this.tp * this.fp);
  }
}

/** Best F1 over thresholds: F1 = 2TP / (TP + FP + P), equal to 2PR/(P+R) (0 when TP = 0). */
export class F1Best {
  f1 = 0;
  /** The caller's tag of the best threshold (a score or a sorted position); -1 if none. */
  at = -1;
  constructor(private readonly positives: number) {}
  step(tp: number, fp: number, tag: number): void {
    const f1 = (2 * tp) / (tp + fp + this.positives);
    // `>=`: on equal F1 keep the lowest threshold, like np.argmax over sklearn's ascending thresholds.
    if (f1 >= this.f1 && tp > 0) {
      this.f1 = f1;
      this.at = tag;
    }
  }
}

/**
 * Area under PRO(FPR) from 0 to `limit`, divided by `limit` (MVTec AD recipe): points start at
 * (0,0), values are clipped to 1, a final (1,1) closes the curve, and the segment crossing `limit`
 * is linearly interpolated unless a point lies exactly on it.
 */
export class ProArea {
  private x = 0;
  private y = 0;
  private area = 0;
  private done = false;
  constructor(private readonly limit: number) {}
  step(fpr: number, pro: number): void {
    if (this.done) return;
    const x = Math.min(fpr, 1),
      y = Math.min(pro, 1);
    if (x <= this.limit) {
      this.area += 0.5 * (y + this.y) * (x - this.x);
    } else {
      if (this.x !== this.limit) {
        const yAt = this.y + ((y - this.y) * (this.limit - this.x)) / (x - this.x);
        this.area += 0.5 * (yAt + this.y) * (this.limit - this.x);
      }
      this.done = true;
    }
    this.x = x;
    this.y = y;
  }
  result(): number {
    this.step(1, 1);
    return this.area / this.limit;
  }
}
