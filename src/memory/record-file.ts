// Float32 records of any length, appended to one spill file and read back one at a time: eval
// keeps each test image's patch features and the last run's maps here instead of in memory.
import { readRange, writeFully } from './row-file.js';
import { openSpillFiles, type SpillFiles } from './spill.js';

export class RecordFile {
  private spill?: SpillFiles;
  private closed = false;
  /** Start (in floats) of record i, and its end at i + 1. */
  private starts: number[] = [0];

  get count(): number {
    return this.starts.length - 1;
  }

  /** Append one record; returns its index. */
  append(data: Float32Array): number {
    if (this.closed) throw new Error('RecordFile: append after close');
    this.spill ??= openSpillFiles(['records.f32']);
    const at = this.starts[this.starts.length - 1];
    writeFully(this.spill.fds[0], new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at * 4);
    this.starts.push(at + data.length);
    return this.count - 1;
  }

  /** A fresh copy of record i. */
  read(i: number): Float32Array {
    if (this.closed) throw new Error('RecordFile: read after close');
    if (!(Number.isInteger(i) && i >= 0 && i < this.count)) throw new RangeError(`record ${i} out of range`);
    const from = this.starts[i],
      to = this.starts[i + 1];
    if (to === from) return new Float32Array(0);
    return readRange(this.spill!.fds[0], 1, { from, to }) as Float32Array;
  }

  /** Remove the file. Safe to call twice. */
  close(): void {
    this.closed = true;
    this.spill?.close();
    this.spill = undefined;
  }
}
