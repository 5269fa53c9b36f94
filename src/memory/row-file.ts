// Reading float32 rows back from a spill file: the store's full rows, its spilled projections and
// the coreset blocks a worker reads for itself all go through this one reader.
import fs from 'node:fs';

/** Longest run of consecutive rows read at once. */
const RUN = 1024;

/**
 * Rows `indices` (any order, duplicates allowed) of a file of `width`-float rows, into `out` in
 * that order. Reads are sorted and coalesced: consecutive rows become one read.
 */
export function readRows(fd: number, width: number, indices: ArrayLike<number>, out = new Float32Array(indices.length * width)): Float32Array {
  const order = Int32Array.from({ length: indices.length }, (_, i) => i).sort((a, b) => indices[a] - indices[b]);
  const rowBytes = width * 4;
  const buf = new Float32Array(Math.min(indices.length, RUN) * width);
  for (let s = 0; s < order.length; ) {
    let e = s + 1;
    while (e < order.length && e - s < RUN && indices[order[e]] - indices[order[e - 1]] <= 1 && indices[order[e]] - indices[order[s]] < RUN) e++;
    const first = indices[order[s]],
      n = indices[order[e - 1]] - first + 1;
    readFully(fd, new Uint8Array(buf.buffer, 0, n * rowBytes), first * rowBytes);
    for (let k = s; k < e; k++) {
      const r = indices[order[k]] - first;
      out.set(buf.subarray(r * width, (r + 1) * width), order[k] * width);
    }
    s = e;
  }
  return out;
}

/** Rows [from, to) of a file of `width`-float rows, in one read (into `out` when given). */
export function readRange(
  fd: number,
  width: number,
  { from, to }: { from: number; to: number },
  out: Float32Array<ArrayBufferLike> = new Float32Array((to - from) * width),
): Float32Array<ArrayBufferLike> {
  readFully(fd, new Uint8Array(out.buffer, out.byteOffset, (to - from) * width * 4), from * width * 4);
  return out;
}

/** `read` on the file, opened for reading and closed after. */
export function withFile<T>(file: string, read: (fd: number) => T): T {
  const fd = fs.openSync(file, 'r');
  try {
    return read(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function readFully(fd: number, bytes: Uint8Array, position: number): void {
  for (let got = 0; got < bytes.length; ) {
    const r = fs.readSync(fd, bytes, got, bytes.length - got, position + got);
    if (r === 0) throw new Error('FeatureStore: temp file is truncated');
    got += r;
  }
}

/** All of `bytes` at `position`, synchronously. */
export function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, bytes.length - off, position + off);
}
