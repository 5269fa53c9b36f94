// Test helpers: write torch.save-style checkpoints (zip and legacy) with a tiny pickle and zip writer.
import { deflateRawSync } from 'node:zlib';
import * as zlib from 'node:zlib';

export interface FixtureTensor {
  shape: number[];
  data: Float32Array;
  /** Junk values stored before the tensor's data, which must then be addressed by storage offset. */
  storageOffset?: number;
  stride?: number[];
}

class Pickler {
  private out: number[] = [];
  private memo = new Map<string, number>();
  op(...b: number[]): this {
    this.out.push(...b);
    return this;
  }
  u32(n: number): this {
    return this.op(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.op(0x58)
      .u32(b.length)
      .op(...b); // BINUNICODE
  }
  int(n: number): this {
    return n < 256 ? this.op(0x4b, n) : n < 65536 ? this.op(0x4d, n & 0xff, n >> 8) : this.op(0x4a).u32(n);
  }
  /** GLOBAL, memoised with BINPUT/BINGET so the reader's memo is exercised. */
  global(mod: string, name: string): this {
    const key = `${mod}.${name}`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return this.op(0x68, hit);
    const id = this.memo.size;
    this.memo.set(key, id);
    return this.op(0x63, ...new TextEncoder().encode(`${mod}\n${name}\n`)).op(0x71, id);
  }
  tuple(items: number[]): this {
    this.op(0x28);
    for (const v of items) this.int(v);
    return this.op(0x74);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

interface Storage {
  key: string;
  half: boolean;
  bytes: Uint8Array;
}

/** The state-dict pickle; each tensor gets its own storage (key = index). `viewOf` lets a tensor share storage with an offset. */
function statePickle(tensors: Map<string, FixtureTensor>, half: Set<string>, legacy: boolean): { pkl: Uint8Array; storages: Storage[] } {
  const p = new Pickler().op(0x80, 2);
  p.global('collections', 'OrderedDict').op(0x29, 0x52, 0x28); // OrderedDict() then MARK
  const storages: Storage[] = [];
  for (const [name, t] of tensors) {
    const key = String(storages.length);
    const isHalf = half.has(name);
    const off = t.storageOffset ?? 0;
    const values = Float32Array.from([...Array(off).fill(99), ...t.data]);
    storages.push({ key, half: isHalf, bytes: isHalf ? toHalf(values) : new Uint8Array(values.buffer) });
    const stride = t.stride ?? t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    p.str(name).global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    p.op(0x28)
      .str('storage')
      .global('torch', isHalf ? 'HalfStorage' : 'FloatStorage')
      .str(key)
      .str('cpu')
      .int(values.length);
    if (legacy) p.op(0x4e); // view_metadata
    p.op(0x74, 0x51); // TUPLE, BINPERSID
    p.int(off).tuple(t.shape).tuple(stride).op(0x89); // offset, size, stride, requires_grad=False
    p.global('collections', 'OrderedDict').op(0x29, 0x52, 0x74, 0x52); // backward_hooks, TUPLE, REDUCE
  }
  p.op(0x75); // SETITEMS
  p.op(0x7d).str('_metadata').op(0x7d, 0x73, 0x62, 0x2e); // BUILD {'_metadata': {}} (ignored), STOP
  return { pkl: p.bytes(), storages };
}

/** torch >= 1.6 zip checkpoint. Local headers carry alignment padding the central directory lacks, as torch's do. */
export function writeTorchZip(tensors: Map<string, FixtureTensor>, opts: { half?: Set<string>; deflate?: boolean; prefix?: string } = {}): Uint8Array {
  const prefix = opts.prefix ?? 'archive';
  const { pkl, storages } = statePickle(tensors, opts.half ?? new Set(), false);
  const files: [string, Uint8Array][] = [
    [`${prefix}/data.pkl`, pkl],
    [`${prefix}/version`, new TextEncoder().encode('3\n')],
  ];
  for (const s of storages) files.push([`${prefix}/data/${s.key}`, s.bytes]);
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let at = 0;
  for (const [name, raw] of files) {
    const deflate = opts.deflate && name.endsWith('.pkl');
    const data = deflate ? new Uint8Array(deflateRawSync(raw)) : raw;
    const nameB = new TextEncoder().encode(name);
    const pad = 64 - ((at + 30 + nameB.length + 4) % 64);
    const extra = new Uint8Array(4 + pad);
    extra.set([0x46, 0x42, pad & 0xff, pad >> 8]); // 'FB' padding record
    const crc = (zlib as unknown as { crc32(b: Uint8Array): number }).crc32(raw);
    const head = header(0x04034b50, 30, deflate ? 8 : 0, crc, data.length, raw.length, nameB.length, extra.length);
    chunks.push(head, nameB, extra, data);
    const c = header(0x02014b50, 46, deflate ? 8 : 0, crc, data.length, raw.length, nameB.length, 0, at);
    central.push(c, nameB);
    at += head.length + nameB.length + extra.length + data.length;
  }
  const dirSize = central.reduce((a, b) => a + b.length, 0);
  const eocd = new Uint8Array(22);
  const v = new DataView(eocd.buffer);
  v.setUint32(0, 0x06054b50, true);
  v.setUint16(8, files.length, true);
  v.setUint16(10, files.length, true);
  v.setUint32(12, dirSize, true);
  v.setUint32(16, at, true);
  return concat([...chunks, ...central, eocd]);
}

/** torch < 1.6 format: magic, protocol, sys info, state dict, storage keys, then count-prefixed storages. */
export function writeTorchLegacy(tensors: Map<string, FixtureTensor>): Uint8Array {
  const { pkl, storages } = statePickle(tensors, new Set(), true);
  const magic = new Pickler().op(0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e).bytes();
  const proto = new Pickler().op(0x80, 2).int(1001).op(0x2e).bytes();
  const sys = new Pickler().op(0x80, 2, 0x7d).str('little_endian').op(0x88, 0x73, 0x2e).bytes();
  const keys = new Pickler().op(0x80, 2, 0x5d, 0x28);
  for (const s of storages) keys.str(s.key);
  const parts = [magic, proto, sys, pkl, keys.op(0x65, 0x2e).bytes()];
  for (const s of storages) {
    const n = new Uint8Array(8);
    new DataView(n.buffer).setBigInt64(0, BigInt(s.bytes.length / 4), true);
    parts.push(n, s.bytes);
  }
  return concat(parts);
}

function header(
  sig: number,
  size: number,
  method: number,
  crc: number,
  csize: number,
  usize: number,
  nameLen: number,
  extraLen: number,
  offset = 0,
): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint32(0, sig, true);
  const o = sig === 0x02014b50 ? 2 : 0; // central records have an extra "version made by" field
  v.setUint16(8 + o, method, true);
  v.setUint32(14 + o, crc >>> 0, true);
  v.setUint32(18 + o, csize, true);
  v.setUint32(22 + o, usize, true);
  v.setUint16(26 + o, nameLen, true);
  v.setUint16(28 + o, extraLen, true);
  if (o) v.setUint32(42, offset, true);
  return b;
}

function toHalf(data: Float32Array): Uint8Array {
  // exact only for values representable in binary16, which the tests choose
  const out = new Uint16Array(data.length);
  data.forEach((x, i) => {
    if (x === 0) return;
    const e = Math.floor(Math.log2(Math.abs(x)));
    const frac = Math.round((Math.abs(x) / 2 ** e - 1) * 1024);
    out[i] = (x < 0 ? 0x8000 : 0) | ((e + 15) << 10) | frac;
  });
  return new Uint8Array(out.buffer);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}
