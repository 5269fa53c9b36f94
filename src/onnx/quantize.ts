// Static int8 quantization of a backbone graph in QDQ form, for ONNX Runtime's CPU kernels.
//
// Weights: int8, symmetric, per output channel. Activations: uint8, asymmetric, per tensor, with
// ranges measured on calibration images (min/max). Conv bias: int32 at scale s_x·s_w[c].
// Each quantized activation T becomes T → QuantizeLinear → DequantizeLinear → consumers; ONNX
// Runtime ('all' optimisation) fuses DQ→Conv→Q into QLinearConv (u8×s8, VNNI on x86), drops a
// Relu in front of a Q whose zero point is 0, and runs Add/MaxPool/Concat on uint8 (AveragePool in
// float between its DQ and Q: see unfusedPools).
// Graph outputs stay float (taken before their Q), so the features keep full precision at the tap.
import onnxProto from 'onnx-proto';
import { initializerFloats } from './builder.js';

const { onnx } = onnxProto;
type Model = onnxProto.onnx.ModelProto;
type Node = onnxProto.onnx.INodeProto;
const DT = onnx.TensorProto.DataType;

/** Ops whose inputs and outputs are kept in uint8 between them. */
const QUANT_OPS = new Set(['Conv', 'Add', 'MaxPool', 'AveragePool', 'Concat', 'Relu']);

export type Ranges = Record<string, [number, number]>;

/** The activation tensors to quantize: inputs and outputs of QUANT_OPS, except a Conv/Add output that only feeds a Relu. */
function activationTensors(model: Model): string[] {
  const g = model.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name!));
  const consumers = new Map<string, Node[]>();
  for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const out = new Set<string>();
  for (const n of g.node ?? []) {
    if (!QUANT_OPS.has(n.opType!)) continue;
    const ins = n.opType === 'Conv' ? [n.input![0]] : n.opType === 'Relu' ? [] : n.input!;
    for (const i of ins) if (i && !inits.has(i)) out.add(i);
    const o = n.output![0];
    const cs = consumers.get(o) ?? [];
    if (cs.length === 0) continue;
    const onlyRelu = cs.every((c) => c.opType === 'Relu') && n.opType !== 'Relu';
    if (!onlyRelu) out.add(o);
  }
  return [...out];
}

/**
 * The model with the min and max of every activation tensor (see activationTensors) as extra scalar
 * outputs (`<name>__min`, `<name>__max`), and those tensor names: reduced inside ONNX Runtime, so
 * the activations are never copied out (that copy made calibration 2.5× slower than a plain forward pass).
 */
export function calibrationModel(bytes: Uint8Array): { bytes: Uint8Array; names: string[] } {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const names = activationTensors(model);
  for (const name of names) {
    for (const op of ['Min', 'Max']) {
      const out = `${name}__${op.toLowerCase()}`;
      g.node!.push({
        opType: `Reduce${op}`,
        input: [name],
        output: [out],
        name: `${out}__R`,
        attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      });
      g.output!.push({ name: out, type: { tensorType: { elemType: DT.FLOAT } } });
    }
  }
  return { bytes: onnx.ModelProto.encode(model).finish(), names };
}

/** Widen running [min, max] ranges with the outputs of one calibration-model run. */
export function updateRanges(ranges: Ranges, outputs: Record<string, { data: unknown }>, names: string[]): void {
  for (const name of names) {
    const lo = (outputs[`${name}__min`]?.data as Float32Array | undefined)?.[0];
    const hi = (outputs[`${name}__max`]?.data as Float32Array | undefined)?.[0];
    if (lo === undefined || hi === undefined) continue;
    const r = ranges[name];
    ranges[name] = r ? [Math.min(r[0], lo), Math.max(r[1], hi)] : [lo, hi];
  }
}

interface QParams {
  scale: number;
  zero: number;
}

/** uint8 parameters for a range; the range always contains 0 so that zero is exact (padding). */
export function uint8Params([lo, hi]: [number, number]): QParams {
  const a = Math.min(0, lo);
  const b = Math.max(0, hi);
  const scale = b - a > 0 ? (b - a) / 255 : 1;
  const zero = Math.min(255, Math.max(0, Math.round(-a / scale)));
  return { scale, zero };
}

/** Build the QDQ model from a float model and measured activation ranges. */
export function quantizeModel(bytes: Uint8Array, ranges: Ranges): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const acts = activationTensors(model).filter((t) => ranges[t]);
  const params = new Map(acts.map((t) => [t, uint8Params(ranges[t])]));
  const newInits: onnxProto.onnx.ITensorProto[] = [];
  const pre: Node[] = [];
  const qdq = (t: string, p: QParams): Node[] => {
    const [s, z] = [`${t}__s`, `${t}__z`];
    newInits.push({ name: s, dims: [], dataType: DT.FLOAT, rawData: bytesOf(Float32Array.of(p.scale)) });
    newInits.push({ name: z, dims: [], dataType: DT.UINT8, rawData: Uint8Array.of(p.zero) });
    return [
      { opType: 'QuantizeLinear', input: [t, s, z], output: [`${t}__q`], name: `${t}__Q` },
      { opType: 'DequantizeLinear', input: [`${t}__q`, s, z], output: [`${t}__dq`], name: `${t}__DQ` },
    ];
  };
  /** Replace float initializer `name` by int8/int32 values behind a per-channel DequantizeLinear (axis 0). */
  const perChannel = (name: string, dims: number[], q: Int8Array | Int32Array, scales: Float32Array): string => {
    const type = q instanceof Int8Array ? DT.INT8 : DT.INT32;
    inits.delete(name);
    newInits.push(
      { name: `${name}__q`, dims, dataType: type, rawData: bytesOf(q) },
      { name: `${name}__s`, dims: [scales.length], dataType: DT.FLOAT, rawData: bytesOf(scales) },
      { name: `${name}__z`, dims: [scales.length], dataType: type, rawData: new Uint8Array(scales.length * q.BYTES_PER_ELEMENT) },
    );
    pre.push({
      opType: 'DequantizeLinear',
      input: [`${name}__q`, `${name}__s`, `${name}__z`],
      output: [`${name}__dq`],
      name: `${name}__DQ`,
      attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
    });
    return `${name}__dq`;
  };

  const body: Node[] = [];
  for (const n of g.node ?? []) {
    // a Conv whose input is quantized gets int8 weights (before the input is rewired below)
    const px = n.opType === 'Conv' ? params.get(n.input![0]) : undefined;
    if (px) quantizeConvParams(n, px, inits, perChannel);
    // rewire every consumer of a quantized tensor to its dequantized copy
    n.input = (n.input ?? []).map((i) => (params.has(i) ? `${i}__dq` : i));
    body.push(n);
    for (const o of n.output ?? []) {
      const p = params.get(o);
      if (p) body.push(...qdq(o, p));
    }
  }
  const inputs: Node[] = [];
  for (const gi of g.input ?? []) {
    const p = params.get(gi.name!);
    if (p) inputs.push(...qdq(gi.name!, p));
  }
  g.node = [...inputs, ...pre, ...body];
  g.initializer = [...inits.values(), ...newInits];
  unfusedPools(g, params);
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Keep quantized AveragePools out of ONNX Runtime's QLinearAveragePool fusion by listing their float
 * outputs as graph outputs (a fused node may not produce one; run() fetches only what it names).
 * The pool then runs as MLAS's float pool between the same DequantizeLinear and QuantizeLinear:
 * features bit-identical on the shared sets, and the int8 InceptionV3 20 % faster at 384 px, where
 * QLinearAveragePool's kernels had been 28 % of its time. The export inlines only the nodes, so it
 * runs the fused pool: the same values (docs/RESULTS.md#backbones-and-int8).
 */
function unfusedPools(g: onnxProto.onnx.IGraphProto, params: Map<string, QParams>): void {
  const outputs = new Set((g.output ?? []).map((o) => o.name));
  for (const n of g.node ?? []) {
    const o = n.output?.[0];
    if (n.opType !== 'AveragePool' || !o || !params.has(o) || outputs.has(o)) continue;
    g.output!.push({ name: o, type: { tensorType: { elemType: DT.FLOAT } } });
  }
}

/** A Conv's float weight as int8 per output channel, and its bias as int32 at scale s_x·s_w[c]. */
function quantizeConvParams(
  n: Node,
  px: QParams,
  inits: Map<string, onnxProto.onnx.ITensorProto>,
  perChannel: (name: string, dims: number[], q: Int8Array | Int32Array, scales: Float32Array) => string,
): void {
  const [, wName, bName] = n.input!;
  const w = inits.get(wName);
  if (!w) return; // weight computed in the graph: leave this Conv in float
  const dims = w.dims!.map(Number);
  const wf = initializerFloats(w);
  const cout = dims[0];
  const per = wf.length / cout;
  const ws = new Float32Array(cout);
  const wq = new Int8Array(wf.length);
  for (let c = 0; c < cout; c++) {
    const o = c * per;
    let m = 0;
    for (let j = 0; j < per; j++) m = Math.max(m, Math.abs(wf[o + j])); // branch-free: 7× faster than if (a > m)
    const s = m > 0 ? m / 127 : 1;
    const inv = 1 / s;
    ws[c] = s;
    // floor(x + 0.5): V8's Math.round was 6× slower here (25M weights: 200 vs 30 ms); |q| <= 127
    for (let j = 0; j < per; j++) wq[o + j] = Math.floor(wf[o + j] * inv + 0.5);
  }
  n.input![1] = perChannel(wName, dims, wq, ws);
  const b = bName ? inits.get(bName) : undefined;
  if (b) {
    const bs = Float32Array.from(ws, (s) => s * px.scale);
    const bq = Int32Array.from(initializerFloats(b), (v, c) => Math.round(v / bs[c]));
    n.input![2] = perChannel(bName, [cout], bq, bs);
  }
}

function bytesOf(a: Float32Array | Int8Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** What a saved model stores to rebuild its int8 backbone: the measured activation ranges. */
export interface Int8Calibration {
  /** Calibration images the ranges were measured on. */
  images: number;
  ranges: Ranges;
}
