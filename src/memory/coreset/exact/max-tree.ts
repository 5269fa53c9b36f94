/**
 * Tournament tree over slots holding (value, index): the winner is the largest value,
 * ties going to the lowest index — the same rule as a left-to-right argmax scan.
 * An empty slot holds value −∞ and index NO_INDEX (so it loses every tie).
 */
export const NO_INDEX = 0x7fffffff;

export class MaxTree {
  private readonly size: number;
  private readonly val: Float64Array;
  private readonly idx: Int32Array;

  constructor(slots: number) {
    let size = 1;
    while (size < slots) size *= 2;
    this.size = size;
    this.val = new Float64Array(2 * size).fill(-Infinity);
    this.idx = new Int32Array(2 * size).fill(NO_INDEX);
  }

  set(slot: number, value: number, index: number): void {
    let p = slot + this.size;
    this.val[p] = value;
    this.idx[p] = index;
    for (p >>= 1; p >= 1; p >>= 1) {
      const l = 2 * p,
        r = l + 1;
      const w = this.val[r] > this.val[l] || (this.val[r] === this.val[l] && this.idx[r] < this.idx[l]) ? r : l;
      this.val[p] = this.val[w];
      this.idx[p] = this.idx[w];
    }
  }

  get bestValue(): number {
    return this.val[1];
  }
  get bestIndex(): number {
    return this.idx[1];
  }
}
