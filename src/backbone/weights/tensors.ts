// Named float tensors read from a checkpoint, and the half-precision conversions both formats need.
import { UserError } from '../../util/errors.js';

export interface WeightTensor {
  /** dtype as stored in the file ('F32', 'F16', 'BF16'); data is always converted to float32. */
  dtype: string;
  shape: number[];
  data: Float32Array;
}

export type WeightMap = Map<string, WeightTensor>;

export const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Element size in bytes of the float dtypes we convert; undefined for anything else. */
export const FLOAT_DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/** Decode `count` little-endian values of a float dtype starting at `bytes[offset]`. */
export function decodeFloats(bytes: Uint8Array, offset: number, count: number, dtype: string, what: string): Float32Array {
  const size = FLOAT_DTYPE_BYTES[dtype];
  if (!size) throw new UserError(`unsupported dtype ${dtype} for tensor ${what}`);
  if (offset < 0 || offset + count * size > bytes.length) {
    throw new UserError(`tensor ${what}: data [${offset}, ${offset + count * size}) lies outside the file (${bytes.length} bytes)`);
  }
  // copying into a fresh buffer both aligns the data and detaches it from the (large) file buffer
  if (dtype === 'F32') {
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + count * 4));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * size);
  const out = new Float32Array(count);
  if (dtype === 'F16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  } else {
    // bfloat16 is the top half of a float32
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) u32[i] = view.getUint16(i * 2, true) << 16;
  }
  return out;
}

/** IEEE 754 binary16 -> number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Strip a DataParallel `module.` prefix so torchvision, timm and wrapped checkpoints share names. */
export function normaliseNames(weights: WeightMap): WeightMap {
  const out: WeightMap = new Map();
  for (const [k, v] of weights) out.set(k.startsWith('module.') ? k.slice(7) : k, v);
  return out;
}
