// Minimal zip reader for torch checkpoints: central directory (zip64 aware), stored or deflated entries.
import { inflateRawSync } from 'node:zlib';
import { UserError } from '../../util/errors.js';

export interface ZipEntry {
  name: string;
  method: number; // 0 stored, 8 deflate
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private view: DataView;

  constructor(
    private bytes: Uint8Array,
    private source = 'zip file',
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const eocd = this.findEocd();
    let count = this.view.getUint16(eocd + 10, true);
    let dirOffset = this.view.getUint32(eocd + 16, true);
    if ((dirOffset === 0xffffffff || count === 0xffff) && eocd >= 20 && this.u32(eocd - 20) === ZIP64_LOCATOR) {
      const z = this.num64(eocd - 20 + 8);
      if (this.u32(z) !== ZIP64_EOCD) this.bad('broken zip64 end record');
      count = this.num64(z + 32);
      dirOffset = this.num64(z + 48);
    }
    let p = dirOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > bytes.length || this.u32(p) !== CENTRAL) this.bad('broken central directory');
      const nameLen = this.view.getUint16(p + 28, true);
      const extraLen = this.view.getUint16(p + 30, true);
      const commentLen = this.view.getUint16(p + 32, true);
      const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
      const entry: ZipEntry = {
        name,
        method: this.view.getUint16(p + 10, true),
        compressedSize: this.u32(p + 20),
        size: this.u32(p + 24),
        localOffset: this.u32(p + 42),
      };
      this.applyZip64Extra(entry, p + 46 + nameLen, extraLen);
      this.entries.set(name, entry);
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** The entry's bytes (a view when stored, inflated when deflated). */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) this.bad(`missing entry ${name}`);
    const p = e.localOffset;
    if (p + 30 > this.bytes.length || this.u32(p) !== LOCAL) this.bad(`broken local header of ${name}`);
    // the local extra field may differ from the central one (torch pads data to 64-byte alignment here)
    const start = p + 30 + this.view.getUint16(p + 26, true) + this.view.getUint16(p + 28, true);
    if (start + e.compressedSize > this.bytes.length) this.bad(`entry ${name} is truncated`);
    const raw = this.bytes.subarray(start, start + e.compressedSize);
    if (e.method === 0) return raw;
    if (e.method === 8) return new Uint8Array(inflateRawSync(raw));
    this.bad(`entry ${name} uses unsupported compression method ${e.method}`);
  }

  private findEocd(): number {
    const min = Math.max(0, this.bytes.length - 22 - 0xffff);
    for (let p = this.bytes.length - 22; p >= min; p--) if (this.u32(p) === EOCD) return p;
    this.bad('not a zip archive (no end-of-central-directory record)');
  }

  private applyZip64Extra(e: ZipEntry, at: number, len: number): void {
    for (let p = at; p + 4 <= at + len; ) {
      const id = this.view.getUint16(p, true);
      const size = this.view.getUint16(p + 2, true);
      if (id === 0x0001) {
        let q = p + 4;
        if (e.size === 0xffffffff) (e.size = this.num64(q)), (q += 8);
        if (e.compressedSize === 0xffffffff) (e.compressedSize = this.num64(q)), (q += 8);
        if (e.localOffset === 0xffffffff) e.localOffset = this.num64(q);
      }
      p += 4 + size;
    }
  }

  private u32(p: number): number {
    return this.view.getUint32(p, true);
  }

  private num64(p: number): number {
    return Number(this.view.getBigUint64(p, true));
  }

  private bad(why: string): never {
    throw new UserError(`${this.source}: ${why}`);
  }
}
