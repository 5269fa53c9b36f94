// --fp16: store large float initializers as float16 and Cast them back to float32 in the graph,
// so the file halves while every op still computes in float32 (ORT folds the Casts at load).
import onnxProto from 'onnx-proto';
import { initializerFloats } from '../onnx/builder.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

/** Below this many values a tensor is left in float32: no size to win, only precision to lose. */
const MIN_VALUES = 1024;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits of a float32 value, rounded to nearest even (subnormals, ±inf and NaN kept). */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    const shift = 14 - e; // 1.mant·2^(exp-127) in units of the smallest subnormal 2^-24
    if (shift > 24) return sign;
    const m = mant | 0x800000;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry into the exponent is still correct
  return sign | h;
}

/** Rewrite the graph in place; returns how many values were converted. */
export function convertToFp16(graph: onnxProto.onnx.IGraphProto): number {
  let converted = 0;
  const casts: onnxProto.onnx.INodeProto[] = [];
  for (const t of graph.initializer ?? []) {
    if (t.dataType !== FLOAT) continue;
    const values = initializerFloats(t);
    if (values.length < MIN_VALUES) continue;
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = toHalf(values[i]);
    const name = t.name!;
    t.name = `${name}__fp16`;
    t.dataType = FLOAT16;
    t.rawData = new Uint8Array(half.buffer);
    t.floatData = [];
    casts.push({
      opType: 'Cast',
      input: [t.name],
      output: [name],
      name: `${name}__cast`,
      attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }],
    });
    converted += values.length;
  }
  graph.node = [...casts, ...(graph.node ?? [])];
  return converted;
}
