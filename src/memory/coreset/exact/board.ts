// What the parts of the exact greedy read from each other: the groups' max δ and, per center,
// the candidate groups with their distance bounds. One thread keeps it in ordinary
// ArrayBuffers; the two-thread driver (threads.ts) puts it in SharedArrayBuffers.

export class Board {
  readonly gMax: Float64Array; // parts × count: δ of each part's group's first member
  readonly gMaxAx: Float64Array; // the same by window position (see Window)
  readonly ccS: Float64Array; // per group: lower bound of ‖c−g‖ for the current center when a candidate
  readonly cand: Int32Array; // parts × count: candidate groups of the current center, per part
  readonly nCand: Int32Array; // per part: how many candidates it found
  readonly buffers: SharedArrayBuffer[] | ArrayBuffer[];

  constructor(
    count: number,
    readonly parts: number,
    buffers?: SharedArrayBuffer[],
  ) {
    const sizes = [parts * count * 8, count * 8, parts * count * 4, parts * count * 8, parts * 4];
    const bufs = buffers ?? sizes.map((b) => (parts > 1 ? new SharedArrayBuffer(b) : new ArrayBuffer(b)));
    this.buffers = bufs as SharedArrayBuffer[];
    this.gMax = new Float64Array(bufs[0]);
    this.ccS = new Float64Array(bufs[1]);
    this.cand = new Int32Array(bufs[2]);
    this.gMaxAx = new Float64Array(bufs[3]);
    this.nCand = new Int32Array(bufs[4]);
    if (!buffers) {
      this.gMax.fill(-Infinity);
      this.gMaxAx.fill(-Infinity);
    }
  }
}
