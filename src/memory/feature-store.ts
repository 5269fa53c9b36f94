// Bounded-memory store of all training patch features for the coreset stage.
// Each batch is projected to 128 dims on arrival (kept in memory, N × 128 floats, or above
// SPILL_PROJECTION_ROWS in a second temp file); the full-dimension rows go to a temp file (or
// stay in memory for small data) and are read back only for the rows the coreset picks, or for
// rescoring the training images.
import fs from 'node:fs';
import type { PatchFeatures } from '../types.js';
import { UserError } from '../util/errors.js';
import { OrtProjector } from './projection.js';
import { readRange, readRows, writeFully } from './row-file.js';
import { openSpillFiles, type SpillFiles } from './spill.js';

/**
 * Above this many reserved rows the projections go to disk too: 2.4M rows are 1.2 GB, and the
 * composable coreset (the only algorithm `auto` runs there) and the threshold read them in blocks.
 */
export const SPILL_PROJECTION_ROWS = 1_000_000;

const ROWS_FILE = 'rows.f32',
  PROJECTED_FILE = 'projected.f32';

export interface FeatureStoreOptions {
  /** Seed of the random projection (use the fit seed). Default 0. */
  seed?: number;
  /** Projected dimension. Default 128 (official). */
  projectDim?: number;
  /** Keep full rows in memory instead of a temp file. Default: spill to disk. */
  inMemory?: boolean;
  /** Reserved rows above which the projections spill to disk as well. Default SPILL_PROJECTION_ROWS. */
  spillProjectionAbove?: number;
}

export class FeatureStore {
  dim = 0;
  count = 0;
  private projector?: Promise<OrtProjector>;
  private proj: Float32Array = new Float32Array(0); // count × projectDim, grown by doubling (or reserved)
  private chunks: Float32Array[] = []; // in-memory mode
  private spill?: SpillFiles;
  private fd = -1;
  /** The projections' file when they spill (−1: in memory), and whether they will. */
  private projFd = -1;
  private spillProjection = false;
  /** The spill write in flight (at most one): it runs on libuv's pool while the next image is extracted. */
  private writing: Promise<void> | null = null;

  constructor(private readonly opts: FeatureStoreOptions = {}) {}

  get projectDim(): number {
    return this.opts.projectDim ?? 128;
  }

  /** Seed of the projection (and of the composable coreset's chunk stage). */
  get seed(): number {
    return this.opts.seed ?? 0;
  }

  /**
   * Room for `rows` projected rows in total, allocated once: without it the buffer grows by
   * doubling, which at 1.2M rows holds 2 × 614 MB for a moment. Shared memory, so that the
   * coreset's second thread reads it without a copy.
   */
  reserve(rows: number): void {
    if (this.count === 0 && !this.opts.inMemory && rows > (this.opts.spillProjectionAbove ?? SPILL_PROJECTION_ROWS)) this.spillProjection = true;
    else if (!this.spillProjection && rows * this.projectDim > this.proj.length) this.grow(rows * this.projectDim);
  }

  /** Whether the projections are on disk (then `projectionSource` is their file). */
  get projectionSpilled(): boolean {
    return this.projFd >= 0;
  }

  /**
   * The projected rows, count × projectDim (a view; do not keep across appends). Spilled
   * projections are read into memory whole on first use (the exact greedy needs them all).
   */
  get projected(): Float32Array {
    const len = this.count * this.projectDim;
    if (this.projFd >= 0 && this.proj.length < len) {
      this.grow(len);
      readRange(this.projFd, this.projectDim, { from: 0, to: this.count }, this.proj);
    }
    return this.proj.subarray(0, len);
  }

  /** Projected rows at `indices`, in that order, without reading the rest. */
  projectedRows(indices: ArrayLike<number>): Float32Array {
    const P = this.projectDim;
    for (let i = 0; i < indices.length; i++) if (!(indices[i] >= 0 && indices[i] < this.count)) throw new RangeError(`row ${indices[i]} out of range`);
    if (this.projFd >= 0 && this.proj.length < this.count * P) return readRows(this.projFd, P, indices);
    const out = new Float32Array(indices.length * P);
    for (let i = 0; i < indices.length; i++) out.set(this.proj.subarray(indices[i] * P, (indices[i] + 1) * P), i * P);
    return out;
  }

  /** Where the coreset's blocks read the projections from: the array, or the spill file's path. */
  get projectionSource(): Float32Array | string {
    return this.projFd >= 0 ? this.spill!.paths[1] : this.projected;
  }

  /**
   * Add one image's rows. With `overlap` the full rows are written to the spill file in the
   * background (fit's feature stage: the write of one image overlaps the next image's extraction;
   * it was 11 % of a whole-image fit); `flush()` must then come before `rows()`.
   */
  async append(f: PatchFeatures, o: { overlap?: boolean } = {}): Promise<void> {
    if (this.fd === -2) throw new Error('FeatureStore: append after close');
    if (this.count === 0) this.open(f.dim);
    if (f.dim !== this.dim) throw new UserError(`feature dimension changed from ${this.dim} to ${f.dim}`);
    const rows = f.count,
      data = f.data.subarray(0, rows * f.dim);
    const P = this.projectDim;
    const z = await (await this.projector!).project(data, rows);
    // a NaN or ±Inf anywhere in a row makes its projection non-finite (NaN·w, Inf·0 and Inf − Inf are NaN):
    // checking the 128 projected values is the same check at an eighth of the reads
    for (let i = 0; i < z.length; i++) if (!Number.isFinite(z[i])) throw new UserError('the backbone produced a non-finite feature value');
    if (this.projFd >= 0) {
      writeFully(this.projFd, new Uint8Array(z.buffer, z.byteOffset, z.byteLength), this.count * P * 4);
      this.proj = new Float32Array(0); // a copy read by `projected` is stale now
    } else {
      if ((this.count + rows) * P > this.proj.length) this.grow(Math.max((this.count + rows) * P, this.proj.length * 2));
      this.proj.set(z, this.count * P);
    }
    if (this.fd >= 0) {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        at = this.count * this.dim * 4;
      await this.flush();
      if (o.overlap && typeof fs.write === 'function') {
        this.writing = writeAll(this.fd, bytes, at);
        this.writing.catch(() => undefined); // reported by the next append or flush
      } else {
        writeFully(this.fd, bytes, at);
      }
    } else {
      this.chunks.push(data.slice());
    }
    this.count += rows;
  }

  private grow(length: number): void {
    // shared so a coreset worker reads it without a copy; a page without cross-origin isolation has none
    const grown = new Float32Array(typeof SharedArrayBuffer === 'undefined' ? new ArrayBuffer(length * 4) : new SharedArrayBuffer(length * 4));
    grown.set(this.proj.subarray(0, this.count * this.projectDim));
    this.proj = grown;
  }

  /** Wait for the spill write in flight, if any (and report its error). */
  async flush(): Promise<void> {
    const w = this.writing;
    this.writing = null;
    await w;
  }

  /** Full-dimension rows at `indices`, in that order (reads are sorted and coalesced). */
  rows(indices: Int32Array): Float32Array {
    if (this.writing) throw new Error('FeatureStore: rows() while a write is in flight (flush() first)');
    const dim = this.dim;
    for (const i of indices) if (!(i >= 0 && i < this.count)) throw new RangeError(`row ${i} out of range`);
    if (this.fd >= 0) return readRows(this.fd, dim, indices);
    const out = new Float32Array(indices.length * dim);
    if (this.chunks.length > 1) this.chunks = [concat(this.chunks, this.count * dim)];
    const all = this.chunks[0];
    indices.forEach((r, k) => out.set(all.subarray(r * dim, (r + 1) * dim), k * dim));
    return out;
  }

  /** Frees memory and removes the temp files. Safe to call twice. */
  close(): void {
    this.removeFiles();
    this.fd = -2;
    this.chunks = [];
    void this.projector?.then((p) => p.release()).catch(() => undefined);
    this.proj = new Float32Array(0);
  }

  private open(dim: number): void {
    this.dim = dim;
    this.projector = OrtProjector.create(dim, this.projectDim, this.opts.seed ?? 0);
    if (this.opts.inMemory) return;
    this.spill = openSpillFiles(this.spillProjection ? [ROWS_FILE, PROJECTED_FILE] : [ROWS_FILE]);
    [this.fd, this.projFd = -1] = this.spill.fds;
  }

  private removeFiles(): void {
    this.writing = null; // a write still in flight fails on the closed file; its error is dropped
    this.spill?.close();
    this.spill = undefined;
    this.fd = this.projFd = -1;
  }
}

/** All of `bytes` at `position`, by fs.write (which may write less than asked). */
function writeAll(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const from = (off: number): void => {
      if (off >= bytes.length) resolve();
      else fs.write(fd, bytes, off, bytes.length - off, position + off, (err, n) => (err ? reject(err) : from(off + n)));
    };
    from(0);
  });
}

function concat(chunks: Float32Array[], length: number): Float32Array {
  const all = new Float32Array(length);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return all;
}
