// safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then raw data.
import { UserError } from '../../util/errors.js';
import { decodeFloats, numel, FLOAT_DTYPE_BYTES, type WeightMap } from './tensors.js';

const MAX_HEADER = 100 * 1024 * 1024; // the format's own limit

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Parse a .safetensors file; F16/BF16 become float32, `*.num_batches_tracked` counters are skipped. */
export function readSafetensors(bytes: Uint8Array, source = 'safetensors file'): WeightMap {
  if (bytes.length < 8) throw new UserError(`${source}: truncated safetensors header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > bytes.length) {
    throw new UserError(`${source}: truncated or invalid safetensors header (declares ${headerLen} bytes, file has ${bytes.length})`);
  }
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new UserError(`${source}: safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new UserError(`${source}: safetensors header is not a JSON object`);
  const dataStart = 8 + headerLen;
  const out: WeightMap = new Map();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as HeaderEntry;
    if (typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
      throw new UserError(`${source}: malformed header entry for tensor ${name}`);
    }
    if (e.dtype === 'I64' && name.endsWith('num_batches_tracked')) continue; // BatchNorm bookkeeping, not a weight
    const size = FLOAT_DTYPE_BYTES[e.dtype];
    if (!size) throw new UserError(`${source}: unsupported dtype ${e.dtype} for tensor ${name}`);
    const [begin, end] = e.data_offsets;
    const count = numel(e.shape);
    if (!(begin >= 0 && end >= begin && dataStart + end <= bytes.length)) {
      throw new UserError(`${source}: tensor ${name} offsets [${begin}, ${end}] lie outside the file (${bytes.length - dataStart} data bytes)`);
    }
    if (end - begin !== count * size) {
      throw new UserError(`${source}: tensor ${name} has ${end - begin} bytes, shape [${e.shape}] ${e.dtype} needs ${count * size}`);
    }
    out.set(name, { dtype: e.dtype, shape: e.shape.slice(), data: decodeFloats(bytes, dataStart + begin, count, e.dtype, name) });
  }
  return out;
}

/** Serialise float32 tensors as .safetensors (used for tests and for converting a .pth once). */
export function writeSafetensors(tensors: Map<string, { shape: number[]; data: Float32Array }>): Uint8Array {
  const header: Record<string, HeaderEntry> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = JSON.stringify(header);
  const pad = (8 - (new TextEncoder().encode(json).length % 8)) % 8; // keep data 8-byte aligned like the reference writer
  const head = new TextEncoder().encode(json + ' '.repeat(pad));
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
