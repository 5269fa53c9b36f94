// Tensor data of the Open Inference Protocol: the datatypes, an input's elements from JSON or from
// binary (little-endian, row-major; BYTES elements as a 4-byte length then the bytes), and outputs
// as JSON or binary.
import { bad, type RequestInput } from './body.js';

/** Element sizes in bytes of the protocol's datatypes (BYTES: variable). */
export const DATATYPES: Record<string, number> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: 0,
};

export const elementCount = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Check the datatype is known and the one expected for this input. */
export function checkDatatype(input: RequestInput, expected: string): void {
  if (!(input.datatype in DATATYPES)) throw bad(`input '${input.name}': unknown datatype '${input.datatype}' (expects ${expected})`);
  if (input.datatype !== expected) throw bad(`input '${input.name}': expected datatype ${expected} but received ${input.datatype}`);
}

/** JSON data, nested or flat, as one row-major list. */
function flatten(data: unknown, name: string, limit: number): unknown[] {
  if (!Array.isArray(data)) throw bad(`input '${name}': data must be an array`);
  const out: unknown[] = [];
  const walk = (a: unknown[], depth: number) => {
    if (depth > 8) throw bad(`input '${name}': data is nested too deeply`);
    for (const x of a) {
      if (Array.isArray(x)) walk(x, depth + 1);
      else if (out.push(x) > limit) throw bad(`input '${name}': data has more elements than its shape`);
    }
  };
  walk(data, 0);
  return out;
}

/** An FP32 input's elements. */
export function fp32Data(input: RequestInput, binary: Buffer | null): Float32Array {
  const n = elementCount(input.shape);
  if (binary) {
    if (binary.length !== 4 * n)
      throw bad(`input '${input.name}': binary_data_size ${binary.length} does not match shape [${input.shape}] of FP32 (${4 * n} bytes)`);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = binary.readFloatLE(4 * i);
    if (!out.every(Number.isFinite)) throw bad(`input '${input.name}': data holds NaN or infinite values`);
    return out;
  }
  const flat = flatten(input.data, input.name, n);
  if (flat.length !== n) throw bad(`input '${input.name}': data has ${flat.length} elements but shape [${input.shape}] needs ${n}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = flat[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw bad(`input '${input.name}': element ${i} is not a finite number`);
    out[i] = x;
  }
  return out;
}

/** A BYTES input's elements: from binary (length-prefixed), or JSON strings holding base64. */
export function bytesData(input: RequestInput, binary: Buffer | null): Buffer[] {
  const n = elementCount(input.shape);
  if (binary) {
    const out: Buffer[] = [];
    let at = 0;
    while (at < binary.length) {
      if (at + 4 > binary.length) throw bad(`input '${input.name}': BYTES element ${out.length} is cut inside its 4-byte length`);
      const len = binary.readUInt32LE(at);
      if (at + 4 + len > binary.length) throw bad(`input '${input.name}': BYTES element ${out.length} says ${len} bytes but ${binary.length - at - 4} remain`);
      out.push(binary.subarray(at + 4, at + 4 + len));
      at += 4 + len;
      if (out.length > n) break;
    }
    if (out.length !== n) throw bad(`input '${input.name}': binary data holds ${out.length} BYTES elements but shape [${input.shape}] needs ${n}`);
    return out;
  }
  const flat = flatten(input.data, input.name, n);
  if (flat.length !== n) throw bad(`input '${input.name}': data has ${flat.length} elements but shape [${input.shape}] needs ${n}`);
  return flat.map((x, i) => {
    if (typeof x !== 'string') throw bad(`input '${input.name}': element ${i} must be a base64 string`);
    return Buffer.from(x, 'base64');
  });
}

/** One output tensor before encoding. */
export interface OutputTensor {
  name: string;
  datatype: 'FP32' | 'BOOL';
  shape: number[];
  data: Float32Array | Uint8Array;
}

export interface ResponseOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: { binary_data_size: number };
  data?: number[] | boolean[];
}

/** JSON form of an output, or its binary bytes (appended after the JSON, in output order). */
export function encodeOutput(t: OutputTensor, binary: boolean): { json: ResponseOutput; bytes: Buffer | null } {
  const { name, datatype, shape } = t;
  if (binary) {
    const bytes = datatype === 'BOOL' ? Buffer.from(t.data as Uint8Array) : Buffer.from(new Float32Array(t.data).buffer); // host order is little-endian on every platform Node runs on
    return { json: { name, datatype, shape, parameters: { binary_data_size: bytes.length } }, bytes };
  }
  const data = datatype === 'BOOL' ? Array.from(t.data as Uint8Array, (b) => b === 1) : Array.from(t.data as Float32Array);
  return { json: { name, datatype, shape, data }, bytes: null };
}
