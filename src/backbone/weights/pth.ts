// PyTorch checkpoints (.pth): the zip format of torch >= 1.6 and the legacy sequential-pickle format.
// Only state dicts of float tensors are understood; the pickle never imports or runs anything.
import { UserError } from '../../util/errors.js';
import { unpickle, PyGlobal } from './pickle.js';
import { ZipReader } from './zip.js';
import { decodeFloats, numel, FLOAT_DTYPE_BYTES, type WeightMap } from './tensors.js';

const STORAGE_DTYPES: Record<string, string> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};
const ELEM_BYTES: Record<string, number> = { F64: 8, I64: 8, I32: 4, U8: 1, BOOL: 1, ...FLOAT_DTYPE_BYTES };

interface StorageRef {
  key: string;
  dtype: string;
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

export function readTorchPth(bytes: Uint8Array, source = 'checkpoint'): WeightMap {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return readZipFormat(bytes, source);
  if (bytes[0] === 0x80) return readLegacyFormat(bytes, source);
  throw new UserError(`${source}: not a PyTorch checkpoint (neither a zip archive nor a pickle)`);
}

function readZipFormat(bytes: Uint8Array, source: string): WeightMap {
  const zip = new ZipReader(bytes, source);
  // the archive folder is named after the file torch.save wrote ('archive', 'resnet18-f37072fd', ...)
  const pkl = [...zip.entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl) throw new UserError(`${source}: zip archive has no data.pkl: not a torch.save checkpoint`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const { value } = unpickle(zip.read(pkl), hooks(source), 0, source);
  return toWeights(value, (key) => zip.read(`${prefix}data/${key}`), source);
}

/** torch < 1.6: magic, protocol, sys-info and state pickles, a pickled list of storage keys, then each storage as int64 count + raw data. */
function readLegacyFormat(bytes: Uint8Array, source: string): WeightMap {
  const h = hooks(source);
  let r = unpickle(bytes, h, 0, source);
  if (r.value !== LEGACY_MAGIC) throw new UserError(`${source}: pickle file is not a PyTorch checkpoint (bad magic number)`);
  r = unpickle(bytes, h, r.end, source); // protocol version
  r = unpickle(bytes, h, r.end, source); // sys info
  const state = unpickle(bytes, h, r.end, source);
  const keys = unpickle(bytes, h, state.end, source);
  const storages = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = keys.end;
  for (const key of keys.value as string[]) {
    const ref = h.storages.get(key);
    if (!ref || p + 8 > bytes.length) throw new UserError(`${source}: truncated legacy checkpoint (storage ${key})`);
    const n = Number(view.getBigInt64(p, true));
    const len = n * (ELEM_BYTES[ref.dtype] ?? 4);
    storages.set(key, bytes.subarray(p + 8, p + 8 + len));
    p += 8 + len;
  }
  return toWeights(state.value, (key) => storages.get(key) ?? new Uint8Array(0), source);
}

function hooks(source: string) {
  const storages = new Map<string, StorageRef>();
  return {
    storages,
    persistentLoad(pid: unknown): StorageRef {
      // ('storage', torch.FloatStorage, key, location, numel[, view_metadata])
      const t = pid as unknown[];
      if (!Array.isArray(t) || t[0] !== 'storage' || !(t[1] instanceof PyGlobal)) throw new UserError(`${source}: unsupported persistent id in pickle`);
      const key = String(t[2]);
      const ref = { key, dtype: STORAGE_DTYPES[t[1].name] ?? t[1].name };
      storages.set(key, ref);
      return ref;
    },
    reduce(callable: string, args: unknown[]): unknown {
      if (callable === 'torch._utils._rebuild_tensor_v2' || callable === 'torch._utils._rebuild_tensor') {
        const [storage, offset, size, stride] = args as [StorageRef, number, number[], number[]];
        return new TensorRef(storage, offset, size, stride);
      }
      if (callable === 'torch._utils._rebuild_parameter') return args[0];
      return undefined;
    },
  };
}

/** Turn the unpickled state dict into float tensors, checking that each is a contiguous view. */
function toWeights(value: unknown, storageBytes: (key: string) => Uint8Array, source: string): WeightMap {
  let dict = value;
  // tolerate {'state_dict': {...}} / {'model': {...}} wrappers
  if (dict instanceof Map && ![...dict.values()].some((v) => v instanceof TensorRef)) dict = dict.get('state_dict') ?? dict.get('model') ?? dict;
  if (!(dict instanceof Map)) throw new UserError(`${source}: checkpoint is not a state dict`);
  const out: WeightMap = new Map();
  for (const [name, t] of dict as Map<string, unknown>) {
    if (!(t instanceof TensorRef)) continue;
    const { storage, offset, size, stride } = t;
    if (!FLOAT_DTYPE_BYTES[storage.dtype]) {
      if (name.endsWith('num_batches_tracked')) continue; // BatchNorm bookkeeping, not a weight
      throw new UserError(`${source}: unsupported dtype ${storage.dtype} for tensor ${name}`);
    }
    let expect = 1;
    for (let d = size.length - 1; d >= 0; d--) {
      if (size[d] !== 1 && stride[d] !== expect) throw new UserError(`${source}: tensor ${name} is not contiguous (stride [${stride}] for size [${size}])`);
      expect *= size[d];
    }
    const data = decodeFloats(storageBytes(storage.key), offset * FLOAT_DTYPE_BYTES[storage.dtype], numel(size), storage.dtype, name);
    out.set(name, { dtype: storage.dtype, shape: size.slice(), data });
  }
  return out;
}
