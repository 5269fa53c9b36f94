// A small typed builder for ONNX graphs (IR 8, opset 17) on top of onnx-proto.
// Float attributes are typed explicitly: a JS `-2.0` would otherwise be taken as INT.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'float16' | 'uint8' | 'int8';

const ELEM: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  float16: onnx.TensorProto.DataType.FLOAT16,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
};

/** Attribute value; wrap floats with `f()` / `floats()` so they are typed FLOAT. */
export type Attr =
  | number // INT
  | { float: number }
  | number[] // INTS
  | { floats: number[] }
  | string;

export const f = (x: number): Attr => ({ float: x });
export const floats = (x: number[]): Attr => ({ floats: x });

function attribute(name: string, v: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.FLOATS, floats: v.floats };
}

/** Dimension: a number, or a symbolic name such as 'N'. */
export type Dim = number | string;

export class GraphBuilder {
  private nodes: onnxProto.onnx.INodeProto[] = [];
  private inits: onnxProto.onnx.ITensorProto[] = [];
  private inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(readonly name = 'graph') {}

  /** A fresh tensor name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, dims: Dim[], dtype: DType = 'float32'): string {
    this.inputs.push(valueInfo(name, dims, dtype));
    return name;
  }

  output(name: string, dims: Dim[], dtype: DType = 'float32'): string {
    this.outputs.push(valueInfo(name, dims, dtype));
    return name;
  }

  /** Constant tensor stored in the graph. */
  init(
    name: string,
    dims: number[],
    data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint16Array | Uint8Array | Int8Array,
    dtype?: DType,
  ): string {
    const t =
      dtype ??
      (data instanceof Float32Array
        ? 'float32'
        : data instanceof Float64Array
          ? 'float64'
          : data instanceof BigInt64Array
            ? 'int64'
            : data instanceof Int32Array
              ? 'int32'
              : data instanceof Uint8Array
                ? 'uint8'
                : data instanceof Int8Array
                  ? 'int8'
                  : 'float16');
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}]`);
    this.inits.push({
      name,
      dims,
      dataType: ELEM[t],
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** int64 constant (shapes, axes). */
  ints(name: string, values: number[]): string {
    return this.init(name, [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  /** Float scalar constant. */
  scalar(name: string, value: number): string {
    return this.init(name, [], Float32Array.of(value));
  }

  /** Add a node; returns its output names. */
  node(op: string, inputs: string[], outputs: string[] | number = 1, attrs: Record<string, Attr> = {}, name?: string): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(op.toLowerCase())) : outputs;
    this.nodes.push({
      opType: op,
      input: inputs,
      output: outs,
      name: name ?? this.fresh(`n_${op}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Single-output shorthand. */
  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string): string {
    return this.node(op, inputs, out ? [out] : 1, attrs)[0];
  }

  /** Serialise to ONNX bytes. */
  toBytes(producer = 'patchcore-ts'): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  /** Number of parameter values held in initializers. */
  parameterCount(): number {
    let n = 0;
    for (const t of this.inits) n += (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
    return n;
  }
}

function valueInfo(name: string, dims: Dim[], dtype: DType): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[dtype],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Float32 values of a float initializer, whichever field holds them: a view of aligned raw data, else a copy. */
export function initializerFloats(t: onnxProto.onnx.ITensorProto): Float32Array {
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`initializer ${t.name} is not float32`);
  if (t.rawData?.length) {
    const raw = t.rawData;
    // decoded raw data is a view into the model's buffer and may start at any byte
    if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }
  return Float32Array.from(t.floatData ?? []);
}
